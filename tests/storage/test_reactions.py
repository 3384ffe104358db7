"""Reactions kept until their request's ts is known: kept once, taken once, forgotten in time."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import queries
from storage.models import EarlyReaction
from tests.storage.test_storage import T0, make_proposal

REQ, TS = "C0REQ", "1732440000.000100"


def keep(session: Session, user: str, *, ts: str = TS, reaction: str = "white_check_mark", minutes: int = 0) -> None:
    at = T0 + timedelta(minutes=minutes)
    queries.keep_reaction(session, channel=REQ, ts=ts, user=user, reaction=reaction, at=at)


def test_a_reaction_is_kept_once_however_often_it_comes(session: Session) -> None:
    for _ in range(3):
        keep(session, "U0BEN")
    keep(session, "U0BEN", reaction="heavy_check_mark")  # a second agreeing reaction of theirs
    assert [r.reaction for r in session.scalars(select(EarlyReaction))] == ["white_check_mark", "heavy_check_mark"]


def test_taking_returns_who_reacted_first_come_first_and_only_once(session: Session) -> None:
    assert not queries.has_kept_reactions(session, channel=REQ, ts=TS)
    keep(session, "U0CHO")
    keep(session, "U0BEN")
    keep(session, "U0CHO", reaction="+1")
    keep(session, "U0DAN", ts="1.000001")
    assert queries.has_kept_reactions(session, channel=REQ, ts=TS)
    assert queries.take_reactions(session, channel=REQ, ts=TS) == ["U0CHO", "U0BEN"]
    assert queries.take_reactions(session, channel=REQ, ts=TS) == []
    assert not queries.has_kept_reactions(session, channel=REQ, ts=TS)
    assert queries.has_kept_reactions(session, channel=REQ, ts="1.000001")


def test_reacted_requests_are_those_whose_ts_is_now_recorded(session: Session) -> None:
    keep(session, "U0BEN")
    keep(session, "U0CHO")
    keep(session, "U0BEN", ts="1.000001")
    assert queries.reacted_requests(session) == []
    proposal = make_proposal(session)
    queries.set_request_message(session, proposal_id=proposal.id, channel=REQ, ts=TS)
    assert queries.reacted_requests(session) == [(REQ, TS)]


def test_pruning_forgets_only_what_was_kept_before(session: Session) -> None:
    keep(session, "U0BEN", minutes=0)
    keep(session, "U0CHO", minutes=30)
    cut = T0 + timedelta(minutes=30)
    assert queries.has_reactions_before(session, before=cut)
    assert queries.prune_reactions(session, before=cut) == 1
    assert not queries.has_reactions_before(session, before=cut)
    assert [r.user for r in session.scalars(select(EarlyReaction))] == ["U0CHO"]
