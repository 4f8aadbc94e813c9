"""Revenue recognition (DOMAIN.md B11, beyond): deferral at invoicing, credit notes, release."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pipeline import queries
from pipeline.rules.revenue import monthly_periods, schedule_amounts
from tests.conftest import Runner
from tests.services.helpers import order, ship

D = Decimal
TODAY = dt.date.today()


def balances(run: Runner) -> dict[str, Decimal]:
    with run.sessions() as session:
        trial = queries.ledger(session)["trial_balance"]
    assert trial["total"] == "0.00"  # L1: the trial balance stays zero throughout
    return {a["account"]: D(a["balance"]) for a in trial["accounts"]}


def month(offset: int) -> dt.date:
    return monthly_periods(TODAY, offset + 1)[-1]


def invoiced_bundles(run: Runner, quantity: str) -> str:
    order(run, "SO-1", ("LaptopBundle", quantity, "2300.00"), confirm=True)
    n = int(quantity)
    ship(
        run,
        "SO-1",
        {"line": 1, "item": "1000", "quantity": quantity, "serials": [f"S{i}" for i in range(n)]},
        {"line": 1, "item": "Support", "quantity": quantity},
        {"line": 1, "item": "S0021", "quantity": quantity},
    )
    return run.ok("post_invoice", {"order": "SO-1"})["journal"]


def recognize(run: Runner, as_of: dt.date) -> dict:
    return run.ok("recognize_revenue", {"as_of": as_of.isoformat()}, request_id=f"rr-{as_of}")


def test_b11_schedule_amounts_last_absorbs_rounding() -> None:
    assert schedule_amounts(D("450.98"), 12) == [D("37.58")] * 11 + [D("37.60")]
    assert schedule_amounts(D("0.18"), 12) == [D("0.01")] * 11 + [D("0.07")]
    assert monthly_periods(dt.date(2026, 11, 21), 3) == [
        dt.date(2026, 11, 1),
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
    ]


def test_b11_usmf_support_line_is_deferred_over_12_months(usmf: Runner) -> None:
    invoice = invoiced_bundles(usmf, "1")
    with usmf.sessions() as session:
        schedule = queries.show_schedule(session, invoice)
    assert [line["amount"] for line in schedule["lines"]] == ["37.58"] * 11 + ["37.60"]
    assert {line["item"] for line in schedule["lines"]} == {"Support"}
    assert schedule["lines"][0]["period"] == TODAY.replace(day=1).isoformat()
    assert balances(usmf)["2900"] == D("-450.98")
    assert balances(usmf)["3000"] == D("-1849.02")  # 1,713.73 + 135.29 recognised at once


def test_b11_releasing_every_month_empties_deferred_revenue_once(usmf: Runner) -> None:
    invoice = invoiced_bundles(usmf, "1")
    for offset in range(12):
        result = recognize(usmf, month(offset))
        assert result["released"] == 1
        assert D(result["amount"]) == (D("37.60") if offset == 11 else D("37.58"))
        assert result["voucher"].startswith("VOU-")
    totals = balances(usmf)
    assert totals["2900"] == 0
    assert -totals["3000"] == D("2300.00")
    with usmf.sessions() as session:
        assert queries.show_schedule(session, invoice)["remaining"] == "0.00"


def test_b11_releasing_twice_for_a_date_posts_once(usmf: Runner) -> None:
    invoiced_bundles(usmf, "1")
    first = recognize(usmf, month(3))
    assert first["released"] == 4
    again = usmf.ok("recognize_revenue", {"as_of": month(3).isoformat()}, request_id="another-id")
    assert (again["released"], again["voucher"]) == (0, None)
    assert balances(usmf)["2900"] == D("-450.98") + 4 * D("37.58")


def test_b11_credit_note_in_month_4_reverses_released_and_deferred(usmf: Runner) -> None:
    invoice = invoiced_bundles(usmf, "2")  # Support 901.96: 11 x 75.16 + 75.20
    recognize(usmf, month(3))
    credit_note = usmf.ok(
        "post_credit_note",
        {
            "invoice": invoice,
            "lines": [
                {"line": 1, "item": c, "quantity": "1"} for c in ("1000", "Support", "S0021")
            ],
        },
    )["journal"]
    with usmf.sessions() as session:
        credited = D(queries.show_journal(session, credit_note)["total_amount"])
        credit = [ln for ln in queries.ledger(session)["entries"] if ln["journal"] == credit_note]
    # Half of Support is credited: 450.98, of which 4 of 12 periods were already recognised.
    support = {(e["account"], e["debit"]) for e in credit if "Support" in e["text"]}
    recognised_share = 4 * D("37.58")
    assert support == {
        ("3000", str(recognised_share)),
        ("2900", str(D("450.98") - recognised_share)),
    }
    for offset in range(4, 12):
        recognize(usmf, month(offset))
    totals = balances(usmf)
    assert totals["2900"] == 0
    assert -totals["3000"] == D("4600.00") - credited
