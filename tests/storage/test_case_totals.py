"""What a case already has of a remedy, and the lock that makes reading it and writing beside it
one step, on both databases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.core.lifecycle import Status
from bot.core.policy import CaseSoFar
from storage import queries
from storage.db import make_sessions
from tests.storage.test_storage import T0, make_proposal

WINDOW_START = T0 - timedelta(days=30)


@pytest.mark.parametrize(
    ("stored", "so_far"),
    [
        ([], CaseSoFar()),
        ([("granted", "20", "ACC-1")], CaseSoFar(granted=Decimal(20))),
        ([("pending", "40", "ACC-1")], CaseSoFar(waiting=Decimal(40))),
        ([("granted", "20", "ACC-1"), ("pending", "40.50", "ACC-1")], CaseSoFar(Decimal(20), Decimal("40.50"))),
        ([("granted", "5", "acc-1"), ("granted", "7", "Acc-1")], CaseSoFar(granted=Decimal(12))),
        ([("declined", "60", "ACC-1"), ("expired", "60", "ACC-1"), ("withdrawn", "60", "ACC-1")], CaseSoFar()),
        ([("granted", "20", "ACC-10"), ("pending", "20", "ACC-")], CaseSoFar()),  # other cases
    ],
)
def test_what_a_case_has_counts_granted_and_waiting_only(
    session: Session, stored: list[tuple[str, str, str]], so_far: CaseSoFar
) -> None:
    for status, amount, case_ref in stored:
        make_proposal(session, status=status, amount=Decimal(amount), case_ref=case_ref, remedy_id="late_fee")
    assert queries.so_far_on_cases(session, cases=[("late_fee", "ACC-1")], since=WINDOW_START) == [so_far]


def test_another_remedy_and_what_is_older_than_the_window_do_not_count(session: Session) -> None:
    make_proposal(session, remedy_id="refund", status="granted", amount=Decimal(20), case_ref="#1")
    make_proposal(session, remedy_id="late_fee", status="granted", amount=Decimal(3), case_ref="#1")
    make_proposal(
        session, remedy_id="late_fee", status="granted", amount=Decimal(5), case_ref="#1", created_at=WINDOW_START
    )
    make_proposal(
        session,
        remedy_id="late_fee",
        status="granted",
        amount=Decimal(7),
        case_ref="#1",
        created_at=WINDOW_START - timedelta(microseconds=1),
    )
    found = queries.so_far_on_cases(session, cases=[("late_fee", "#1"), ("refund", "#1")], since=WINDOW_START)
    assert found == [CaseSoFar(granted=Decimal(8)), CaseSoFar(granted=Decimal(20))]
    assert queries.so_far_on_cases(session, cases=[], since=WINDOW_START) == []


def test_a_submission_arriving_again_does_not_count_itself(session: Session) -> None:
    make_proposal(session, status=Status.GRANTED, amount=Decimal(20), source_key="V0FORM")
    make_proposal(session, status=Status.PENDING, amount=Decimal(60))
    cases = [("refund", "#4711")]
    assert queries.so_far_on_cases(session, cases=cases, since=WINDOW_START) == [CaseSoFar(Decimal(20), Decimal(60))]
    again = queries.so_far_on_cases(session, cases=cases, since=WINDOW_START, except_source_keys=["V0FORM"])
    assert again == [CaseSoFar(waiting=Decimal(60))]


def test_a_case_lock_holds_off_only_that_case(engine: Engine) -> None:
    sessions = make_sessions(engine)
    with sessions.begin() as holder:
        queries.lock_cases(holder, cases=[("late_fee", "ACC-1"), ("refund", "#2")])
        if engine.dialect.name != "postgresql":
            return  # SQLite: every writer already waits for the one before it
        for case, waits in [
            (("late_fee", "acc-1"), True),  # whatever its letters' case
            (("refund", "#2"), True),
            (("refund", "ACC-1"), False),  # the same reference, another remedy
            (("late_fee", "ACC-2"), False),
        ]:
            with sessions.begin() as other:
                other.execute(text("SET LOCAL lock_timeout = '50ms'"))
                if waits:
                    with pytest.raises(OperationalError, match="lock timeout"):
                        queries.lock_cases(other, cases=[case])
                else:
                    queries.lock_cases(other, cases=[case])
