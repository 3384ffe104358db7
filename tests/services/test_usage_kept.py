"""A report keeps the whole rolled-up days it read and reads only its edges again: asked again,
it still counts every decision since, a day rolled up meanwhile (here or by another instance),
and never one it counted before twice; on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot import services
from bot.core.policy import Tier
from tests.services.test_usage_rollup import MIDNIGHT, Granted, context, decided, expected, grant, same
from tests.support import FakeClock, wipe


@pytest.fixture
def clean(engine: Engine) -> Iterator[Engine]:
    wipe(engine)
    yield engine
    wipe(engine)


def test_a_report_asked_again_counts_what_was_granted_since(clean: Engine) -> None:
    clock = FakeClock(MIDNIGHT + timedelta(days=5, hours=9))
    ctx = context(clean, clock)
    grants = [Granted(MIDNIGHT + timedelta(days=d, hours=10), decided("U0ANA", seconds=60 * d)) for d in range(5)]
    grant(ctx, *grants)
    assert services.roll_up_usage(ctx) == 5
    start = MIDNIGHT + timedelta(hours=11)  # the first day's grant is before the window
    first = services.usage_between(ctx, start=start, end=clock())
    assert same(first, expected(grants, start, clock()))
    assert first.decisions == 4

    # A grant today, and one on the first, part day: the edges are read again.
    clock.advance(minutes=30)
    today = Granted(clock() - timedelta(minutes=1), decided("U0BEN", Tier.PEER, "90", agreed_by="U0CHO"))
    first_day = Granted(MIDNIGHT + timedelta(hours=12), decided("U0CHO", amount="25.50"))
    grant(ctx, today, first_day)
    grants += [today, first_day]
    again = services.usage_between(ctx, start=start, end=clock())
    assert same(again, expected(grants, start, clock()))
    assert again.decisions == 6


def test_a_day_rolled_up_by_another_instance_after_a_report_is_counted_once(clean: Engine) -> None:
    clock = FakeClock(MIDNIGHT + timedelta(days=3, hours=12))
    here, there = context(clean, clock), context(clean, clock)
    grants = [
        Granted(MIDNIGHT + timedelta(days=d, hours=h), decided("U0ANA", Tier.LEAD, "300", agreed_by="U0LEE"))
        for d in range(5)
        for h in (2, 20)
    ]
    grant(here, *[g for g in grants if g.at < clock()])
    assert services.roll_up_usage(here) == 3
    start = MIDNIGHT - timedelta(days=1)
    assert same(services.usage_between(here, start=start, end=clock()), expected(grants, start, clock()))

    clock.advance(days=2)  # two more days, rolled up by the other instance
    grant(here, *[g for g in grants if g.at >= clock() - timedelta(days=2)])
    assert services.roll_up_usage(there) == 2
    report = services.usage_between(here, start=start, end=clock())
    assert same(report, expected(grants, start, clock()))
    assert report.decisions == len(grants) == 10
    # And a shorter window inside the longer one, read from the same days, adds up too.
    later = MIDNIGHT + timedelta(days=1, hours=3)
    assert same(services.usage_between(here, start=later, end=clock()), expected(grants, later, clock()))
