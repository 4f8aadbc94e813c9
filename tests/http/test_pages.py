"""The page for people at `/`, over real HTTP: sign in once with the page's own form (a POST,
never a key in the address), then a signed session cookie; autoescaped. The other pages:
test_pages_office."""

from __future__ import annotations

import re

import httpx
import pytest

from docpost.pipeline.entrypoints.http.app import redact_query
from docpost.pipeline.entrypoints.http.pages import names_a_key
from tests.http.conftest import Posted, post_and_wait

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def form_token(browser: httpx.Client) -> str:
    """Open the sign-in page as a browser does: its form's hidden token (and its cookie)."""
    page = browser.get("/")
    (token,) = re.findall(r'<input type="hidden" name="csrf" value="([^"]+)">', page.text)
    assert browser.cookies["docpost_csrf"] == token
    return token


def sign_in(browser: httpx.Client, key: str, **headers: str) -> httpx.Response:
    """Fill in and send the sign-in form, as from the page itself."""
    token = form_token(browser)
    return browser.post("/", data={"csrf": token, "key": key}, headers=headers)


def test_without_a_key_the_page_asks_for_one(posted: Posted) -> None:
    with posted.stack.client() as browser:
        response = browser.get("/")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "Sign in with your API key." in response.text
    assert 'name="key"' in response.text


def test_an_unknown_key_does_not_sign_in(posted: Posted) -> None:
    with posted.stack.client() as browser:
        response = sign_in(browser, "dpk_wrong")
    assert response.status_code == 401
    assert "That key is not known." in response.text
    assert "docpost_key" not in browser.cookies


def test_sign_in_with_the_form_sets_an_httponly_cookie(posted: Posted) -> None:
    key = posted.stack.keys["erp"]
    with posted.stack.client() as browser:
        signed_in = sign_in(browser, key, Origin=posted.stack.base_url)
        page = browser.get("/")
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/"
    cookies = signed_in.headers.get_list("set-cookie")
    (cookie,) = [c for c in cookies if c.startswith("docpost_session=")]
    assert key not in cookie  # a signed session holding the key's id, never the key
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http on localhost
    # The form's token is used up.
    assert any(c.startswith('docpost_csrf="";') for c in cookies), cookies
    assert page.status_code == 200
    assert "Signed in as erp" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_sign_in_form_posts_a_token_set_in_a_strict_cookie(posted: Posted) -> None:
    with posted.stack.client() as browser:
        page = browser.get("/")
    assert '<form method="post" action="/">' in page.text
    (cookie,) = [c for c in page.headers.get_list("set-cookie") if c.startswith("docpost_csrf=")]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie


@pytest.mark.parametrize("query", ["key={key}", "%6Bey={key}", "KEY={key}", "k%65y={key}&x=1"])
def test_a_key_in_the_address_never_signs_in_and_never_reaches_the_log(
    posted: Posted, query: str
) -> None:
    """`GET /?%6Bey=...` used to sign in and write the whole key into the access log; a link
    `/?key=ATTACKER` from another site signed a victim in as the attacker (login CSRF)."""
    stack = posted.stack
    key = stack.new_key("warehouse-1")
    victim = stack.keys["erp"]
    with stack.client() as browser:
        assert sign_in(browser, victim).status_code == 303
        response = browser.get("/?" + query.format(key=key))
        page = browser.get("/")
    assert response.status_code == 400
    assert "An API key in the address is never accepted" in response.text
    set_cookies = response.headers.get_list("set-cookie")
    assert not [c for c in set_cookies if c.startswith("docpost_session=")], set_cookies
    # The victim stays signed in as themselves.
    assert page.status_code == 200 and "Signed in as erp" in page.text
    log = stack.server.text()
    assert key not in log and key[4:] not in log
    # Negative control: the request itself is in the log, with its key redacted.
    assert "GET /?" + query.split("=")[0] + "=<redacted>" in log


def test_a_sign_in_without_the_forms_token_is_refused(posted: Posted) -> None:
    """Login CSRF: another site's form posting a key to `/` has no token (it can neither read
    nor set our SameSite=Strict cookie)."""
    key = posted.stack.keys["erp"]
    with posted.stack.client() as browser:
        no_token = browser.post("/", data={"key": key})
        form_token(browser)
        wrong_token = browser.post("/", data={"csrf": "x" * 43, "key": key})
    for response in (no_token, wrong_token):
        assert response.status_code == 403, response.text
        assert "The sign-in form has expired or did not come from this site" in response.text
        assert "docpost_session=" not in str(response.headers.get_list("set-cookie"))
    assert "docpost_session" not in browser.cookies


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://attacker.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
)
def test_a_sign_in_from_another_site_is_refused(posted: Posted, headers: dict[str, str]) -> None:
    """Even with a valid token: the browser says the form was on another site."""
    with posted.stack.client() as browser:
        response = sign_in(browser, posted.stack.keys["erp"], **headers)
    assert response.status_code == 403
    assert "A sign-in from another site is refused" in response.text
    assert "docpost_session" not in browser.cookies


def test_a_sign_in_that_is_no_form_is_refused(posted: Posted) -> None:
    with posted.stack.client() as browser:
        token = form_token(browser)
        response = browser.post("/", json={"csrf": token, "key": posted.stack.keys["erp"]})
    assert response.status_code == 400
    assert "Sign in with the form below." in response.text
    assert "docpost_session" not in browser.cookies


def test_key_like_query_parameters_are_redacted_in_the_log() -> None:
    assert redact_query("/?%6Bey=dpk_abc&wait=3") == "/?%6Bey=<redacted>&wait=3"
    assert redact_query("/requests/x?wait=10") == "/requests/x?wait=10"
    assert redact_query("/documents?journal=dpk_abc") == "/documents?journal=<redacted>"
    assert redact_query("/health") == "/health"
    assert names_a_key("Api%5FKEY=1") and not names_a_key("journal=PS-000001")


def test_the_page_links_every_journal_to_its_pdf(posted: Posted) -> None:
    with posted.stack.client() as browser:
        sign_in(browser, posted.stack.keys["erp"])
        page = browser.get("/", params={"offset": 0})
        links = re.findall(r'<a class="doc doc-pdf" href="([^"]+)"[^>]*>([^<]+)</a>', page.text)
        newest = {}
        for document in posted.documents:
            if document["kind"] == "picking_list":
                continue  # D2: the page links the journal's own PDF
            newest[document["journal"]] = document  # listed oldest first: the last one wins
        assert {name for _, name in links} >= {d["filename"] for d in newest.values()}
        for href, name in links:
            pdf = browser.get(href)
            assert pdf.status_code == 200, (href, pdf.text)
            assert f'filename="{name}"' in pdf.headers["content-disposition"]


def test_an_actor_without_the_read_duty_sees_403(posted: Posted) -> None:
    with posted.stack.client() as browser:
        sign_in(browser, posted.stack.keys["auditor"])
        page = browser.get("/")
    assert page.status_code == 403
    assert "auditor may not read journals" in page.text


def test_sign_out_forgets_the_cookie(posted: Posted) -> None:
    with posted.stack.client(follow_redirects=True) as browser:
        signed_in = sign_in(browser, posted.stack.keys["erp"])
        (token,) = re.findall(
            r'action="/logout"><input type="hidden" name="csrf" value="([^"]+)"', signed_in.text
        )
        response = browser.post("/logout", data={"csrf": token}, follow_redirects=True)
    assert signed_in.status_code == 200
    assert response.status_code == 401
    assert "docpost_session" not in browser.cookies


def test_text_from_upstream_systems_is_escaped(posted: Posted) -> None:
    order = "<script>alert(1)</script>"
    with posted.stack.client("erp") as erp:
        for body in (
            {
                "request_id": "http-escape-1",
                "kind": "upsert_order",
                "payload": {
                    "order": order,
                    "customer": "US-004",
                    "lines": [{"line": 1, "item": "M0001", "quantity": "1", "unit_price": "1"}],
                },
            },
            {"request_id": "http-escape-2", "kind": "confirm_order", "payload": {"order": order}},
        ):
            assert post_and_wait(erp, body)["status"] == "succeeded"
        page = erp.get("/")
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
