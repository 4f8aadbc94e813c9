"""The page for people at `/`: sign in with ?key= once, then the cookie; autoescaped."""

from __future__ import annotations

import re

import pytest

from tests.http.conftest import Posted, post_and_wait

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_without_a_key_the_page_asks_for_one(posted: Posted) -> None:
    with posted.stack.client() as browser:
        response = browser.get("/")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "Sign in with your API key." in response.text
    assert 'name="key"' in response.text


def test_an_unknown_key_does_not_sign_in(posted: Posted) -> None:
    with posted.stack.client() as browser:
        response = browser.get("/", params={"key": "dpk_wrong"})
    assert response.status_code == 401
    assert "That key is not known." in response.text
    assert "docpost_key" not in browser.cookies


def test_sign_in_sets_an_httponly_cookie_and_drops_the_key_from_the_address(
    posted: Posted,
) -> None:
    key = posted.stack.keys["erp"]
    with posted.stack.client() as browser:
        signed_in = browser.get("/", params={"key": key})
        page = browser.get("/")
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/"
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith(f"docpost_key={key};")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http on localhost
    assert page.status_code == 200
    assert "Signed in as erp" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_page_links_every_journal_to_its_pdf(posted: Posted) -> None:
    with posted.stack.client(cookies={"docpost_key": posted.stack.keys["erp"]}) as browser:
        page = browser.get("/")
        links = re.findall(r'<a class="pdf" href="([^"]+)">([^<]+)</a>', page.text)
        newest = {}
        for document in posted.documents:
            newest[document["journal"]] = document  # listed oldest first: the last one wins
        assert {name for _, name in links} >= {d["filename"] for d in newest.values()}
        for href, name in links:
            pdf = browser.get(href)
            assert pdf.status_code == 200, (href, pdf.text)
            assert f'filename="{name}"' in pdf.headers["content-disposition"]


def test_an_actor_without_the_read_duty_sees_403(posted: Posted) -> None:
    with posted.stack.client(cookies={"docpost_key": posted.stack.keys["auditor"]}) as browser:
        page = browser.get("/")
    assert page.status_code == 403
    assert "auditor may not read journals" in page.text


def test_sign_out_forgets_the_cookie(posted: Posted) -> None:
    with posted.stack.client() as browser:
        signed_in = browser.get(
            "/", params={"key": posted.stack.keys["erp"]}, follow_redirects=True
        )
        response = browser.get("/logout", follow_redirects=True)
    assert signed_in.status_code == 200
    assert response.status_code == 401
    assert "docpost_key" not in browser.cookies


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
