"""Granting and taking away duties (DOMAIN.md M5): pipeline.duties.check_duty_change, no
database. The services' and HTTP tests check the same refusals through a catalog."""

from __future__ import annotations

from collections.abc import Set

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.duties import ALL_DUTIES, check_duty_change
from docpost.pipeline.errors import Rejection

POST = "post_sales_documents"
BLANKS = "register_non_readable_serials"
ACTORS = "manage_actors"

duty_sets = st.frozensets(st.sampled_from(ALL_DUTIES))


def refused(held: Set[str], before: Set[str], after: Set[str]) -> Rejection:
    with pytest.raises(Rejection) as caught:
        check_duty_change("hr", held, "newbie", before, after)
    return caught.value


def test_m5_a_duty_held_may_be_granted_and_taken_away() -> None:
    """Negative control for the refusals below: the same changes by a granter holding both."""
    check_duty_change("erp", {POST, BLANKS}, "newbie", {BLANKS}, {POST})


@pytest.mark.parametrize(
    ("before", "after", "code", "message"),
    [
        (
            set(),
            {POST},
            "actor.grant_not_held",
            f"actor 'hr' may not grant the duty {POST} to actor 'newbie': nobody grants a duty "
            "they do not hold themselves",
        ),
        (
            {POST},
            set(),
            "actor.revoke_not_held",
            f"actor 'hr' may not take the duty {POST} from actor 'newbie': nobody takes away a "
            "duty they do not hold themselves",
        ),
    ],
    ids=["grant", "take_away"],
)
def test_m5_nobody_grants_or_takes_away_a_duty_they_do_not_hold(
    before: set[str], after: set[str], code: str, message: str
) -> None:
    error = refused({ACTORS}, before, after)
    assert (error.code, error.rule, error.message) == (code, "M5", message)
    assert error.details == {"duty": POST, "target": "newbie"}


def test_m5_a_grant_is_refused_before_a_revocation_and_the_first_duty_by_name() -> None:
    error = refused(set(), {BLANKS}, {POST, ACTORS})
    assert (error.code, error.details["duty"]) == ("actor.grant_not_held", ACTORS)


@given(held=duty_sets, before=duty_sets, after=duty_sets)
def test_m5_a_change_passes_exactly_when_every_duty_it_changes_is_held(
    held: frozenset[str], before: frozenset[str], after: frozenset[str]
) -> None:
    """Duties kept unchanged need nothing; each added or removed one must be held."""
    unheld = (before ^ after) - held
    if not unheld:
        check_duty_change("hr", held, "newbie", before, after)
        return
    error = refused(held, before, after)
    granted = sorted((after - before) - held)
    revoked = sorted((before - after) - held)
    if granted:
        assert (error.code, error.details["duty"]) == ("actor.grant_not_held", granted[0])
    else:
        assert (error.code, error.details["duty"]) == ("actor.revoke_not_held", revoked[0])
