"""The rows a change writes beside its state change: history, agreement, audit record, posts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm.attributes import set_committed_value

from bot.core.lifecycle import Event
from bot.core.parsing import Draft
from bot.core.policy import Remedy, Tier
from bot.core.vocabulary import OutboxKind, Via
from bot.services.context import Context
from storage import queries
from storage.models import Proposal


def proposal_fields(
    ctx: Context,
    remedy: Remedy,
    draft: Draft,
    *,
    tier: Tier,
    proposer: str,
    origin_channel: str | None,
    source_key: str | None,
    now: datetime,
) -> dict[str, Any]:
    """A new proposal's facts, all from the policy and the draft (never from a button's value)."""
    return {
        "source_key": source_key,
        "remedy_id": remedy.id,
        "remedy_label": remedy.label,
        "unit": ctx.policy.unit_of(remedy),
        "amount": draft.amount,
        "customer_fair": draft.fair,
        "case_ref": draft.case_ref,
        "summary": draft.summary,
        "tier": tier,
        "proposer": proposer,
        "origin_channel": origin_channel,
        "created_at": now,
    }


def event(at: datetime, kind: Event, actor: str | None, **detail: str) -> dict[str, Any]:
    return {"at": at, "kind": kind, "actor": actor, "detail": detail}


def grant_rows(
    ctx: Context, *, tier: Tier, proposer: str, created_at: datetime, approver: str, via: Via, now: datetime
) -> queries.Rows:
    """What every grant owes: the agreement, the history, the audit record and the posts."""
    alone = via is Via.ALONE
    channels = ctx.policy.channels
    owed = [(OutboxKind.DECISION, channels.decisions), (OutboxKind.KUDOS, channels.kudos)]
    if not alone:
        owed += [(OutboxKind.REQUEST_UPDATE, channels.requests), (OutboxKind.PROPOSER_NOTE, proposer)]
    return queries.Rows(
        approvals=[{"approver": approver, "via": via, "at": now}],
        events=[event(now, Event.GRANTED, approver, via=via)],
        decisions=[
            {
                "tier": tier,
                "agreed_by": None if alone else approver,
                "granted_at": now,
                "seconds_to_decision": max(0, int((now - created_at).total_seconds())),
            }
        ],
        # One post of each kind per proposal; a request may be brought up to date more than once.
        outbox=[
            queries.outbox_row(
                kind=kind,
                channel=channel,
                at=now,
                dedupe_key=None if kind is OutboxKind.REQUEST_UPDATE else f"{kind}:{queries.THIS_PROPOSAL}",
            )
            for kind, channel in owed
        ],
    )


def count_grant(ctx: Context, tier: Tier, *, seconds: int) -> None:
    ctx.metrics.outcome(tier, "granted")
    ctx.metrics.time_to_decision.labels(tier=tier).observe(seconds)


def mark(proposal: Proposal, **values: Any) -> None:
    """Record what a conditional update changed on the loaded object, without another SELECT."""
    for name, value in values.items():
        set_committed_value(proposal, name, value)
