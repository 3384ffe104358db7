"""Limits that grow with trust: suggestions from the evidence, and the limits leads change on
top of the policy file (set, raise, reset), each posted to the decisions channel and, when a
limit rises, celebrated as the team's judgement moving the funnel."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from bot.core import trust
from bot.core.limits import LimitRefused, effective, with_limits
from bot.core.policy import Policy, Tier
from bot.core.trust import Evidence, Suggestion
from bot.core.vocabulary import LimitChangeKind, OutboxKind
from bot.services import webhooks
from bot.services.context import Context
from bot.services.results import Refused
from storage import db, queries
from storage.models import LimitChange
from storage.queries import limits as limit_queries

ONLY_LEADS_LIMITS = "Only leads can change limits. Ask a lead: `/remedy limits` shows what applies now."
HISTORY_SHOWN = 20
NOTHING_TO_SET_ASIDE = "There's no suggestion like that to set aside. `/remedy trust` shows what there is."


@dataclass(frozen=True)
class LimitChanged:
    change: LimitChange
    policy: Policy  # in force after the change


@dataclass(frozen=True)
class NoLongerSuggested:
    """The evidence no longer supports the raise a lead clicked (limits or decisions moved)."""

    remedy_id: str


@dataclass(frozen=True)
class SetAside:
    remedy_id: str
    limit: Tier


LimitResult = LimitChanged | Refused | NoLongerSuggested


def suggestions(ctx: Context) -> list[Suggestion]:
    """The raises the evidence supports now, but those set aside with "Not now" until theirs grows."""
    with db.reading(ctx.sessions) as session:
        return _suggestions(session, ctx.in_force.refresh(session), ctx)


def _suggestions(session: Session, policy: Policy, ctx: Context) -> list[Suggestion]:
    spec = policy.trust
    found = limit_queries.trust_evidence(session, since=ctx.clock() - spec.window, at_least=spec.min_decisions)
    # A "Not now" lasts until the evidence has grown, or a whole window of new evidence has come.
    set_aside = limit_queries.dismissals(session, since=ctx.clock() - spec.window)
    made = []
    for evidence in found:
        remedy = policy.remedy(evidence.remedy_id)
        limit = trust.RAISES.get(evidence.tier)
        if remedy is None or limit is None:
            continue
        suggestion = trust.suggest(remedy, evidence, spec, dismissed_at=set_aside.get((remedy.id, limit)))
        if suggestion is not None:
            made.append(suggestion)
    return made


def _personal(session: Session, policy: Policy, ctx: Context) -> list[Suggestion]:
    """Personal alone limits the evidence supports, for agents whose own decisions with a peer
    were all reviewed well."""
    spec, roster = policy.trust, ctx.roster()
    found = limit_queries.personal_evidence(session, since=ctx.clock() - spec.window, at_least=spec.min_decisions)
    made = []
    for person, evidence in found:
        team, theirs = policy.remedy(evidence.remedy_id), ctx.policy_for(person).remedy(evidence.remedy_id)
        if team is None or theirs is None or not roster.is_agent(person):
            continue
        suggestion = trust.suggest_personal(team, person, evidence, spec, current=theirs.alone_up_to)
        if suggestion is not None:
            made.append(suggestion)
    return made


def every_suggestion(ctx: Context) -> list[Suggestion]:
    """The team's limits ready to move, then personal ones ready to offer, in one read."""
    with db.reading(ctx.sessions) as session:
        policy = ctx.in_force.refresh(session)
        return _suggestions(session, policy, ctx) + _personal(session, policy, ctx)


def refresh_ready_to_move(ctx: Context) -> int:
    """Read the evidence again for the suggestions leads' Homes show (see Context.ready_to_move)."""
    ctx.ready_to_move[:] = every_suggestion(ctx)
    return len(ctx.ready_to_move)


def trust_for(ctx: Context, *, user: str) -> list[Suggestion] | Refused:
    """Leads: the team's limits ready to move, then personal ones ready to offer."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_LIMITS)
    return every_suggestion(ctx)


def offer_personal(ctx: Context, *, user: str, remedy_id: str, person: str) -> LimitResult:
    """**Offer** a personal alone limit: the figure comes from that agent's evidence as it stands
    now, never from the button. Only they and leads see it: told privately, never posted."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_LIMITS)
    with ctx.sessions.begin() as session:
        queries.lock_routing(session)  # one limit change at a time
        policy = ctx.in_force.refresh(session)
        suggestion = next(
            (s for s in _personal(session, policy, ctx) if s.remedy_id == remedy_id and s.person == person), None
        )
        if suggestion is None:
            return NoLongerSuggested(remedy_id)
        change = limit_queries.add_limit_change(
            session,
            remedy_id=remedy_id,
            kind=LimitChangeKind.RAISED,
            tier=Tier.ALONE,
            person=person,
            from_amount=suggestion.current,
            to_amount=suggestion.proposed,
            by=user,
            at=ctx.clock(),
            evidence=_evidence_record(suggestion.evidence),
        )
        queries.enqueue(
            session,
            kind=OutboxKind.LIMIT_CHANGE,
            channel=person,  # a direct message: theirs alone
            at=ctx.clock(),
            detail={"change_id": change.id, "as": "personal"},
            dedupe_key=f"{OutboxKind.LIMIT_CHANGE}:{change.id}:personal",
        )
        webhooks.limit_changed(session, ctx, change)
        for home_of in (person, user):  # their limits, and the lead's suggestions, have moved
            queries.enqueue(session, kind=OutboxKind.HOME, channel=home_of, at=ctx.clock())
    return _after(ctx, change)


def set_limit(ctx: Context, *, user: str, remedy_id: str, tier: Tier, amount: Decimal) -> LimitResult:
    """A lead sets one limit by hand. Limits must still rise tier by tier."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_LIMITS)
    with ctx.sessions.begin() as session:
        queries.lock_routing(session)  # one limit change at a time, so limits keep rising tier by tier
        policy = ctx.in_force.refresh(session)
        made = _change(
            session, ctx, policy, user=user, remedy_id=remedy_id, tier=tier, amount=amount, kind=LimitChangeKind.SET
        )
    return _after(ctx, made)


def raise_limit(ctx: Context, *, user: str, remedy_id: str, tier: Tier) -> LimitResult:
    """**Raise** on a suggestion: the figure comes from the evidence as it stands now, never
    from the button, and only if the evidence still supports a raise of that limit."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_LIMITS)
    with ctx.sessions.begin() as session:
        queries.lock_routing(session)  # one limit change at a time, so limits keep rising tier by tier
        policy = ctx.in_force.refresh(session)
        suggestion = next(
            (s for s in _suggestions(session, policy, ctx) if s.remedy_id == remedy_id and s.limit is tier), None
        )
        if suggestion is None:
            return NoLongerSuggested(remedy_id)
        made = _change(
            session,
            ctx,
            policy,
            user=user,
            remedy_id=remedy_id,
            tier=tier,
            amount=suggestion.proposed,
            kind=LimitChangeKind.RAISED,
            evidence=suggestion.evidence,
        )
    return _after(ctx, made)


def not_now(ctx: Context, *, user: str, remedy_id: str, tier: Tier) -> SetAside | Refused:
    """**Not now**: not suggested again for that limit until its evidence grows."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_LIMITS)
    if tier not in trust.RAISES.values():
        return Refused(NOTHING_TO_SET_ASIDE)
    with ctx.sessions.begin() as session:
        queries.lock_routing(session)  # two clicks at once: one row, the later click's
        policy = ctx.in_force.refresh(session)
        if policy.remedy(remedy_id) is None:
            return Refused(NOTHING_TO_SET_ASIDE)
        evidence_tier = next(t for t, raised in trust.RAISES.items() if raised is tier)
        size = limit_queries.decisions_since(
            session, remedy_id=remedy_id, tier=evidence_tier, since=ctx.clock() - policy.trust.window
        )
        limit_queries.dismiss(session, remedy_id=remedy_id, tier=tier, decisions=size, by=user, at=ctx.clock())
        queries.enqueue(session, kind=OutboxKind.HOME, channel=user, at=ctx.clock())
    refresh_ready_to_move(ctx)
    ctx.wake_sender()
    return SetAside(remedy_id, tier)


def reset_limits(ctx: Context, *, user: str, remedy_id: str) -> LimitResult:
    """Back to the policy file's limits for one remedy."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_LIMITS)
    with ctx.sessions.begin() as session:
        queries.lock_routing(session)
        policy = ctx.in_force.refresh(session)
        remedy = policy.remedy(remedy_id)
        if remedy is None:
            return Refused(f"There's no remedy `{remedy_id}` in the policy.")
        team, personal = limit_queries.limit_overrides(session)
        if not any(r == remedy_id for r, _ in team) and not any(r == remedy_id for _, r in personal):
            return Refused(f"Nothing to reset: {remedy.label}'s limits are the policy file's.")
        change = limit_queries.add_limit_change(
            session, remedy_id=remedy_id, kind=LimitChangeKind.RESET, by=user, at=ctx.clock()
        )
        _announce(session, ctx, change, celebrate=False)
    return _after(ctx, change)


def history(ctx: Context, *, user: str) -> list[LimitChange] | Refused:
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_LIMITS)
    with db.reading(ctx.sessions) as session:
        return limit_queries.limit_changes(session, limit=HISTORY_SHOWN)


def _change(
    session: Session,
    ctx: Context,
    policy: Policy,
    *,
    user: str,
    remedy_id: str,
    tier: Tier,
    amount: Decimal,
    kind: LimitChangeKind,
    evidence: Evidence | None = None,
) -> LimitChange | Refused:
    """One limit changed, checked against `policy`, the limits in force as read under the
    routing lock the caller holds (one change at a time, so limits keep rising tier by tier)."""
    remedy = policy.remedy(remedy_id)
    if remedy is None:
        return Refused(f"There's no remedy `{remedy_id}` in the policy.")
    current = remedy.limit(tier)
    if amount == current:
        return Refused(f"{remedy.label} {tier.value} is already {policy.format_amount(remedy, amount)}.")
    try:
        with_limits(remedy, {tier: amount})
    except LimitRefused as why:
        return Refused(f"That would leave {remedy.label}'s limits out of order: {why}.")
    team, _ = limit_queries.limit_overrides(session)
    applied = effective(ctx.base_policy, {**team, (remedy_id, tier): amount}).remedy(remedy_id)
    if applied is None or applied.limit(tier) != amount:  # earlier changes no longer fit the file
        return Refused(
            f"The limits leads set earlier for {remedy.label} no longer rise tier by tier with the policy "
            f"file's, so this one wouldn't apply. `/remedy limits reset {remedy_id}` first, then set it again."
        )
    change = limit_queries.add_limit_change(
        session,
        remedy_id=remedy_id,
        kind=kind,
        tier=tier,
        from_amount=current,
        to_amount=amount,
        by=user,
        at=ctx.clock(),
        evidence=_evidence_record(evidence) if evidence else None,
    )
    _announce(session, ctx, change, celebrate=amount > current)
    return change


def _after(ctx: Context, made: LimitChange | Refused) -> LimitChanged | Refused:
    """Once committed: the limits in force here move at once (other instances at their next request)."""
    if isinstance(made, Refused):
        return made
    ctx.wake_sender()
    policy = ctx.refresh_policy()
    refresh_ready_to_move(ctx)
    return LimitChanged(made, policy)


def _announce(session: Session, ctx: Context, change: LimitChange, *, celebrate: bool) -> None:
    """The decisions channel keeps every change (the audit trail); a limit that rises is the
    team's judgement moving the funnel, celebrated in the kudos channel; and company systems
    subscribed to limit changes are told."""
    channels = ctx.policy.channels
    places = [(channels.decisions, "record"), *([(channels.kudos, "celebration")] if celebrate else [])]
    for channel, role in places:
        queries.enqueue(
            session,
            kind=OutboxKind.LIMIT_CHANGE,
            channel=channel,
            at=ctx.clock(),
            detail={"change_id": change.id, "as": role},
            dedupe_key=f"{OutboxKind.LIMIT_CHANGE}:{change.id}:{role}",
        )
    queries.enqueue(session, kind=OutboxKind.HOME, channel=change.by, at=ctx.clock())
    webhooks.limit_changed(session, ctx, change)


def _evidence_record(evidence: Evidence) -> dict[str, object]:
    return {
        "tier": evidence.tier.value,
        "decisions": evidence.decisions,
        "reviewed": evidence.reviewed,
        "talk": evidence.talk,
        "median": str(evidence.median),
        "covering": str(evidence.covering),
    }
