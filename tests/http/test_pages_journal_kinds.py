"""Every journal's back-office page opens, whatever its kind (a packing slip carries no total,
VAT, due date or KID; its page answered 500 while the template asked for them)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.entrypoints.http.app import create_app
from docpost.schema import Journal
from tests.http.pages_fixture import office_data
from tests.http.test_pages_office import sign_in


def test_the_page_of_each_journal_kind_opens(sessions: sessionmaker[Session]) -> None:
    office = office_data(sessions)
    with sessions() as session:
        numbers = session.scalars(select(Journal.number).order_by(Journal.id)).all()
    assert {n.split("-")[0] for n in numbers} >= {"CONF", "PS", "INV"}, numbers
    with TestClient(create_app(office.sessions), raise_server_exceptions=False) as client:
        sign_in(client, office.keys["erp"])
        for number in numbers:
            page = client.get(f"/office/journals/{number}")
            assert page.status_code == 200, (number, page.text[:300])
            assert "<h1>" in page.text and number in page.text
