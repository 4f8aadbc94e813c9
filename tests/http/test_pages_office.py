"""The back-office page (issue 18 item 1), in process on SQLite and PostgreSQL: sign-in with a
signed session cookie, search, the warranty trace (S11, S15), an order, a journal (S11
inquiry), rejected requests and dead letters, pagination, nb_NO / en_US, offline /docs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline import queries
from docpost.pipeline.entrypoints.http import session as page_session
from docpost.pipeline.entrypoints.http.app import create_app
from docpost.pipeline.entrypoints.http.auth import list_keys, revoke_key
from docpost.schema import DeadLetter
from tests.http.pages_fixture import ORDER, REJECTED, SERIAL, Office, office_data


@pytest.fixture
def office(sessions: sessionmaker[Session]) -> Office:
    return office_data(sessions)


@pytest.fixture
def app_client(office: Office) -> Iterator[TestClient]:
    with TestClient(create_app(office.sessions)) as client:
        yield client


def sign_in(client: TestClient, key: str) -> TestClient:
    page = client.get("/")
    (token,) = re.findall(r'<input type="hidden" name="csrf" value="([^"]+)">', page.text)
    response = client.post("/", data={"csrf": token, "key": key}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def test_sign_in_sets_a_signed_session_cookie_that_holds_no_key(
    office: Office, app_client: TestClient
) -> None:
    key = office.keys["erp"]
    page = app_client.get("/")
    (token,) = re.findall(r'name="csrf" value="([^"]+)"', page.text)
    response = app_client.post("/", data={"csrf": token, "key": key}, follow_redirects=False)
    (cookie,) = [
        c for c in response.headers.get_list("set-cookie") if c.startswith("docpost_session=")
    ]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert key not in cookie and key[4:20] not in cookie
    assert "docpost_key=" not in str(response.headers.get_list("set-cookie"))
    home = app_client.get("/")
    assert home.status_code == 200 and '<span id="signed-in">Signed in as erp</span>' in home.text


def test_a_forged_or_tampered_session_cookie_is_not_signed_in(
    office: Office, app_client: TestClient
) -> None:
    sign_in(app_client, office.keys["erp"])
    sealed = app_client.cookies["docpost_session"]
    body, mac = sealed.split(".")
    forged = page_session.seal(page_session.PageSession(1, 2**40, "x")).split(".")[0] + "." + mac
    for value in (forged, body + ".AAAA", "garbage", sealed[:-2]):
        app_client.cookies.set("docpost_session", value)
        page = app_client.get("/")
        assert page.status_code == 401, value
        assert "Sign in with your API key." in page.text
    # Negative control: the genuine cookie is signed in.
    app_client.cookies.set("docpost_session", sealed)
    assert app_client.get("/").status_code == 200


def test_an_expired_session_is_refused() -> None:
    sealed = page_session.seal(page_session.PageSession(1, 100, "n"))
    assert page_session.unseal(sealed, now=99) is not None
    assert page_session.unseal(sealed, now=101) is None


def test_a_revoked_key_ends_its_session_at_once(office: Office, app_client: TestClient) -> None:
    sign_in(app_client, office.keys["erp"])
    assert app_client.get("/").status_code == 200
    with office.sessions() as session, session.begin():
        (erp_key,) = [k for k in list_keys(session, "erp")]
        revoke_key(session, erp_key["id"])
    assert app_client.get("/").status_code == 401


def test_an_unknown_key_does_not_sign_in(app_client: TestClient) -> None:
    page = app_client.get("/")
    (token,) = re.findall(r'name="csrf" value="([^"]+)"', page.text)
    response = app_client.post("/", data={"csrf": token, "key": "dpk_wrong"})
    assert response.status_code == 401
    assert "That key is not known." in response.text
    assert "docpost_session" not in app_client.cookies


def test_sign_out_is_a_post_with_the_sessions_csrf_token(
    office: Office, app_client: TestClient
) -> None:
    sign_in(app_client, office.keys["erp"])
    home = app_client.get("/")
    (token,) = re.findall(
        r'action="/logout"><input type="hidden" name="csrf" value="([^"]+)"', home.text
    )
    refused = app_client.post("/logout", data={"csrf": "x" * 43}, follow_redirects=False)
    assert refused.status_code == 403
    assert "Sign out with the button on the page." in refused.text
    assert app_client.get("/").status_code == 200  # still signed in
    done = app_client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert done.status_code == 303
    assert app_client.get("/").status_code == 401


def test_search_a_serial_lists_its_sales_and_links_the_trace(
    office: Office, app_client: TestClient
) -> None:
    sign_in(app_client, office.keys["erp"])
    page = app_client.get("/office/search", params={"kind": "serial", "q": SERIAL[:5].lower()})
    assert page.status_code == 200
    assert f'<a href="/office/trace/{SERIAL}">{SERIAL}</a>' in page.text
    assert f'<a href="/office/orders/{ORDER}">' in page.text
    # Negative control: a serial never sold finds nothing.
    none = app_client.get("/office/search", params={"kind": "serial", "q": "NOPE-1"})
    assert 'id="no-results"' in none.text and SERIAL not in none.text


@pytest.mark.parametrize(
    ("kind", "text", "found"),
    [
        ("order", "so-30", f"/office/orders/{ORDER}"),
        ("journal", "INV-0", "/office/journals/INV-000001"),
        ("customer", "bergen", f"/office/orders/{ORDER}"),
        ("customer", "NO-1001", f"/office/orders/{ORDER}"),
    ],
)
def test_search_orders_journals_and_customers(
    office: Office, app_client: TestClient, kind: str, text: str, found: str
) -> None:
    sign_in(app_client, office.keys["erp"])
    page = app_client.get("/office/search", params={"kind": kind, "q": text})
    assert f'href="{found}"' in page.text


def test_search_takes_like_wildcards_literally(office: Office, app_client: TestClient) -> None:
    sign_in(app_client, office.keys["erp"])
    for text in ("%", "_", "SO-%"):
        page = app_client.get("/office/search", params={"kind": "order", "q": text})
        assert 'id="no-results"' in page.text, text


def test_the_trace_says_the_warranty_S11_S15(office: Office, app_client: TestClient) -> None:
    """S11: sale, customer, order, packing slip and invoice of a serial; S15: valid until."""
    sign_in(app_client, office.keys["erp"])
    with office.sessions() as session:
        expected = queries.trace(session, SERIAL)
    until = expected["warranty_until"]
    page = app_client.get(f"/office/trace/{SERIAL}")
    assert page.status_code == 200
    warranty = page.text.split('id="warranty"')[1].split("</div>")[0]
    assert '<span class="ok">valid</span>' in warranty and until in warranty
    assert f'<span class="ok">valid</span> (valid until {until})' in warranty  # as a sentence
    for text in ("NO-1001 Bergen Matsenter AS", 'href="/office/journals/INV-000001"'):
        assert text in page.text
    after = app_client.get(f"/office/trace/{SERIAL}", params={"on": "2099-01-01"})
    assert '<span class="bad">not valid</span>' in after.text.split('id="warranty"')[1]


def test_an_unknown_serial_is_404_with_its_message(office: Office, app_client: TestClient) -> None:
    sign_in(app_client, office.keys["erp"])
    page = app_client.get("/office/trace/NOPE-1")
    assert page.status_code == 404
    assert "serial &#39;NOPE-1&#39; was never sold" in page.text
    bad_day = app_client.get(f"/office/trace/{SERIAL}", params={"on": "tomorrow"})
    assert bad_day.status_code == 422


def test_the_order_page_shows_lines_bundles_quantities_serials_and_documents(
    office: Office, app_client: TestClient
) -> None:
    sign_in(app_client, office.keys["erp"])
    page = app_client.get(f"/office/orders/{ORDER}")
    assert page.status_code == 200
    lines = page.text.split('id="lines"')[1].split("</table>")[0]
    assert "GAVE-1" in lines and "bundle" in lines
    assert lines.count("component of 2") == 2  # OST-1 and KNIV-1
    assert f'<a href="/office/trace/{SERIAL}">{SERIAL}</a>' in lines
    journals = page.text.split('id="journals"')[1]
    pdf = re.search(
        r'class="doc doc-pdf" href="(/office/documents/\d+)"[^>]*>INV-000001\.pdf', journals
    )
    xml = re.search(
        r'class="doc doc-ubl" href="(/office/documents/\d+)"[^>]*>INV-000001\.xml', journals
    )
    assert pdf and xml, journals
    assert "picking list" in journals  # D2: the confirmation's picking list
    got_pdf = app_client.get(pdf.group(1))
    assert got_pdf.headers["content-type"] == "application/pdf"
    assert got_pdf.content.startswith(b"%PDF")
    got_xml = app_client.get(xml.group(1))
    assert got_xml.headers["content-type"].startswith("application/xml")
    assert b"<Invoice" in got_xml.content[:2000]


def test_the_journal_page_lists_the_serials_of_each_line_S11(
    office: Office, app_client: TestClient
) -> None:
    sign_in(app_client, office.keys["erp"])
    page = app_client.get(f"/office/journals/{office.invoice}")
    assert page.status_code == 200
    lines = page.text.split('id="lines"')[1].split("</table>")[0]
    assert f'<a href="/office/trace/{SERIAL}">{SERIAL}</a>' in lines
    assert "INV-000001.xml" in page.text and "e-invoice (EHF)" in page.text
    missing = app_client.get("/office/journals/INV-999999")
    assert (
        missing.status_code == 404 and "journal &#39;INV-999999&#39; does not exist" in missing.text
    )


def test_rejected_requests_and_dead_letters_show_their_messages(
    office: Office, app_client: TestClient
) -> None:
    with office.sessions() as session, session.begin():
        session.add(
            DeadLetter(
                queue="requests", reason="not JSON: Expecting value", raw_head="{oops", size=5
            )
        )
        error = queries.show_request(session, REJECTED)["error"]
    sign_in(app_client, office.keys["erp"])
    page = app_client.get("/office/requests")
    assert page.status_code == 200
    rows = page.text.split('id="requests"')[1].split("</table>")[0]
    assert REJECTED in rows and error["code"] in rows
    assert error["message"].replace("'", "&#39;") in rows
    dead = page.text.split('id="dead-letters"')[1]
    assert "not JSON: Expecting value" in dead and "{oops" in dead


def test_an_actor_without_the_read_duty_sees_only_its_own_requests(
    office: Office, app_client: TestClient
) -> None:
    """M5: the page shows what the key's duties allow, as the JSON API does."""
    sign_in(app_client, office.keys["auditor"])
    for path in ("/", f"/office/orders/{ORDER}", f"/office/trace/{SERIAL}", "/office/search?q=S"):
        page = app_client.get(path)
        assert page.status_code == 403, path
        assert (
            "auditor may not read journals; that needs the duty post_sales_documents" in page.text
        )
    requests = app_client.get("/office/requests")
    assert requests.status_code == 200
    assert REJECTED not in requests.text and 'id="dead-letters"' not in requests.text
    assert "Only your own requests are shown" in requests.text
    assert app_client.get("/office/documents/1").status_code == 403


def test_lists_are_paged(office: Office, app_client: TestClient) -> None:
    with office.sessions() as session:
        every = queries.journals_page(session, queries.Page(0, 1000))["rows"]
        first = queries.journals_page(session, queries.Page(0, 1))
        second = queries.journals_page(session, queries.Page(1, 1))
    assert len(every) == 3
    assert first["has_more"] and len(first["rows"]) == 1
    assert [j["journal"] for j in first["rows"] + second["rows"]] == [
        j["journal"] for j in every[:2]
    ]
    last = len(every) - 1
    with office.sessions() as session:
        end = queries.journals_page(session, queries.Page(last, 2))
    assert not end["has_more"] and len(end["rows"]) == 1
    sign_in(app_client, office.keys["erp"])
    page = app_client.get("/", params={"offset": last})
    assert every[-1]["journal"] in page.text and every[0]["journal"] + "<" not in page.text
    assert 'rel="prev"' in page.text and 'rel="next"' not in page.text


def test_the_page_speaks_nb_NO_and_en_US(office: Office, app_client: TestClient) -> None:
    sign_in(app_client, office.keys["erp"])
    assert "Recent journals" in app_client.get("/").text
    norsk = app_client.get("/", headers={"Accept-Language": "nb-NO,nb;q=0.9,en;q=0.5"})
    assert "Siste bilag" in norsk.text and '<html lang="nb">' in norsk.text
    switched = app_client.get("/", params={"lang": "nb_NO"})
    assert "Logget inn som" in switched.text
    # The choice is remembered, over the browser's language.
    assert "Siste bilag" in app_client.get("/", headers={"Accept-Language": "en"}).text
    assert "Recent journals" in app_client.get("/", params={"lang": "en_US"}).text


def test_text_from_upstream_systems_is_escaped(office: Office, app_client: TestClient) -> None:
    sign_in(app_client, office.keys["erp"])
    page = app_client.get("/office/search", params={"kind": "order", "q": "<script>x</script>"})
    assert "<script>" not in page.text and "&lt;script&gt;x&lt;/script&gt;" in page.text


def test_the_api_docs_load_no_asset_from_another_site(app_client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        page = app_client.get(path)
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources and all(s.startswith("/") for s in sources), (path, sources)
        for source in sources:
            if source.startswith("/docs-assets/"):
                assert app_client.get(source).status_code == 200, source
    assert "validatorUrl" in app_client.get("/docs").text
    assert app_client.get("/docs-assets/../app.py").status_code == 404


def test_an_unknown_search_kind_is_refused_by_name(office: Office) -> None:
    with office.sessions() as session, pytest.raises(ValueError) as refused:
        queries.search(session, "x", "invoice")
    assert str(refused.value) == (
        "search kind must be one of order, journal, customer, serial, not 'invoice'"
    )


def test_problem_requests_and_dead_letters_are_paged_and_filtered(office: Office) -> None:
    with office.sessions() as session, session.begin():
        for n in range(3):
            session.add(DeadLetter(queue="requests", reason=f"bad {n}", raw_head="x", size=1))
    with office.sessions() as session:
        first = queries.dead_letters_page(session, queries.Page(0, 2))
        rest = queries.dead_letters_page(session, queries.Page(2, 2))
        mine = queries.problem_requests(session, actor="erp")["rows"]
        theirs = queries.problem_requests(session, actor="auditor")["rows"]
    assert [d["reason"] for d in first["rows"] + rest["rows"]] == ["bad 2", "bad 1", "bad 0"]
    assert first["has_more"] and not rest["has_more"]
    assert [r["request_id"] for r in mine] == [REJECTED]
    assert mine[0]["code"] == "order.unknown" and "SO-NONE" in mine[0]["message"]
    assert theirs == []  # negative control: filtered by actor


def test_timestamps_read_as_people_read_them(office: Office, app_client: TestClient) -> None:
    from docpost.pipeline.entrypoints.http.pages import when

    assert when("2026-11-30T09:52:06.331787+00:00") == "2026-11-30 09:52 UTC"
    assert when("2026-11-30T10:52:06+01:00") == "2026-11-30 09:52 UTC"
    assert when(None) == "–" and when("not a time") == "not a time"
    sign_in(app_client, office.keys["erp"])
    page = app_client.get(f"/office/orders/{ORDER}")
    assert re.search(r"<dd>\d{4}-\d\d-\d\d \d\d:\d\d UTC</dd>", page.text)
