"""Limits that grow with trust, in words: suggestions with **Raise** and **Not now**, the record
of each change in the decisions channel, its celebration in the kudos channel, the history."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.core.policy import Policy, Tier, format_amount
from bot.core.trust import Suggestion
from bot.core.vocabulary import LimitChangeKind
from bot.services.limits import LimitChanged, LimitResult, NoLongerSuggested, SetAside
from bot.slack import ids
from bot.slack.views.markup import Message, chunks, escape, section
from storage.models import LimitChange

# What a limit lets people decide, as the team says it.
WHO_DECIDES: dict[Tier, str] = {
    Tier.CUSTOMER: "a customer may serve themselves in the product",
    Tier.ALONE: "an agent may grant alone",
    Tier.PEER: "two agents may agree together",
    Tier.LEAD: "a lead may approve",
}
EVIDENCE_OF: dict[Tier, str] = {Tier.PEER: "with a peer", Tier.LEAD: "with a lead"}


def _label(policy: Policy, remedy_id: str) -> str:
    remedy = policy.remedy(remedy_id)
    return escape(remedy.label) if remedy else f"`{remedy_id}`"


def _amount(policy: Policy, remedy_id: str, amount: Decimal | None) -> str:
    remedy = policy.remedy(remedy_id)
    unit = policy.unit_of(remedy) if remedy else policy.currency
    return format_amount(amount or Decimal(0), unit)


def suggestion_text(suggestion: Suggestion, policy: Policy) -> str:
    """ "Waive a late fee: 48 decisions with a peer in 30 days, 47 reviewed Looks good, none
    Let's talk, median $35. Raise what an agent may grant alone from $20 to $40?" """
    e, remedy_id = suggestion.evidence, suggestion.remedy_id
    talk = "none" if e.talk == 0 else str(e.talk)
    return (
        f"*{_label(policy, remedy_id)}*: {e.decisions} decisions {EVIDENCE_OF[e.tier]} in "
        f"{policy.trust.window.days} days, {e.looks_good} reviewed *Looks good*, {talk} *Let's talk*, "
        f"median {_amount(policy, remedy_id, e.median)}. Raise what {WHO_DECIDES[suggestion.limit]} from "
        f"{_amount(policy, remedy_id, suggestion.current)} to {_amount(policy, remedy_id, suggestion.proposed)}?"
    )


def personal_text(suggestion: Suggestion, policy: Policy) -> str:
    """ "Waive a late fee for @ana: 20 decisions with a peer in 30 days, every one reviewed Looks
    good, median $35. Offer them a personal limit to grant alone up to $40 (the team's is $20)?" """
    e, remedy_id = suggestion.evidence, suggestion.remedy_id
    return (
        f"*{_label(policy, remedy_id)}* for <@{suggestion.person}>: {e.decisions} decisions with a peer in "
        f"{policy.trust.window.days} days, every one reviewed *Looks good*, median "
        f"{_amount(policy, remedy_id, e.median)}. Offer them a personal limit to grant alone up to "
        f"{_amount(policy, remedy_id, suggestion.proposed)} (now {_amount(policy, remedy_id, suggestion.current)})?"
    )


def suggestion_blocks(suggestions: Sequence[Suggestion], policy: Policy) -> list[Block]:
    blocks: list[Block] = []
    for suggestion in suggestions:
        if suggestion.person is not None:  # names the agent and remedy only; the figure is re-read
            blocks.append(section(personal_text(suggestion, policy)))
            offer = ButtonElement(
                text="Offer", action_id=ids.Action.TRUST_OFFER, value=f"{suggestion.remedy_id}:{suggestion.person}"
            )
            blocks.append(ActionsBlock(elements=[offer]))
            continue
        value = f"{suggestion.remedy_id}:{suggestion.limit.value}"  # names the limit only; the figure is re-read
        blocks.append(section(suggestion_text(suggestion, policy)))
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(text="Raise", action_id=ids.Action.TRUST_RAISE, value=value, style="primary"),
                    ButtonElement(text="Not now", action_id=ids.Action.TRUST_NOT_NOW, value=value),
                ]
            )
        )
    return blocks


def digest_blocks(digest: str, suggestions: Sequence[Suggestion], policy: Policy) -> list[dict[str, object]]:
    """A lead's weekly digest with the limits ready to move, and their buttons, after it."""
    blocks: list[Block] = [section(c) for c in chunks(digest.splitlines())]
    blocks.append(section("*Ready to move down the funnel*"))
    blocks.extend(suggestion_blocks(suggestions, policy))
    return [b.to_dict() for b in blocks[:50]]


def trust_message(suggestions: Sequence[Suggestion], policy: Policy) -> Message:
    if not suggestions:
        return Message(
            text=(
                "No limit is ready to move yet. A suggestion comes when a remedy has "
                f"{policy.trust.min_decisions} or more decisions with a peer or a lead in "
                f"{policy.trust.window.days} days, most of them reviewed and almost none needing a talk."
            )
        )
    lines = [personal_text(s, policy) if s.person else suggestion_text(s, policy) for s in suggestions]
    return Message(text="\n".join(lines), blocks=suggestion_blocks(suggestions, policy))


def change_record(change: LimitChange, policy: Policy) -> Message:
    """The audit line in the decisions channel."""
    label, who = _label(policy, change.remedy_id), f"<@{change.by}>"
    if change.kind is LimitChangeKind.RESET or change.tier is None:
        return Message(text=f"📋 *{label}*: limits are back to the policy file's, reset by {who}.")
    before = _amount(policy, change.remedy_id, change.from_amount)
    after = _amount(policy, change.remedy_id, change.to_amount)
    if change.person is not None:
        return Message(
            text=f"📋 *{label}*: <@{change.person}>'s own limit to grant alone {before} → {after}, offered by {who}."
        )
    how = "raised from the evidence" if change.kind is LimitChangeKind.RAISED else "set"
    text = f"📋 *{label}*: what {WHO_DECIDES[change.tier]} {before} → {after}, {how} by {who}."
    evidence = change.evidence or {}
    if evidence.get("decisions"):
        text += (
            f" Evidence: {evidence['decisions']} decisions {EVIDENCE_OF.get(Tier(evidence['tier']), '')}, "
            f"{evidence['reviewed']} reviewed, {evidence['talk'] or 'none'} needing a talk, "
            f"median {_amount(policy, change.remedy_id, Decimal(evidence['median']))}."
        )
    return Message(text=text)


def change_celebration(change: LimitChange, policy: Policy) -> Message:
    """The kudos post: the team's judgement moved the funnel."""
    label = _label(policy, change.remedy_id)
    after = _amount(policy, change.remedy_id, change.to_amount)
    if change.tier is Tier.ALONE:
        news = f"*{label}* up to {after} is now yours to decide alone"
    elif change.tier is Tier.PEER:
        news = f"*{label}* up to {after} now needs only two of you to agree"
    else:
        news = f"*{label}* up to {after} can now be approved by a lead"
    return Message(text=f"🎉 {news}. The team's good judgement moved the funnel.")


def personal_offer(change: LimitChange, policy: Policy) -> Message:
    """To the agent alone: a lead offered them a personal limit for their judgement."""
    label = _label(policy, change.remedy_id)
    after = _amount(policy, change.remedy_id, change.to_amount)
    text = (
        f":seedling: <@{change.by}> offered you a personal limit: *{label}* up to {after} is yours to decide alone. "
        "Every decision you made with a peer lately was reviewed well: this is your judgement, trusted. "
        "Only you and leads see this."
    )
    return Message(text=text, blocks=[section(text)])


def limit_changed(change: LimitChange, policy: Policy) -> Message:
    """The lead's own reply."""
    return Message(text="Done. " + change_record(change, policy).text.removeprefix("📋 "))


def trust_coming() -> Message:
    """The ack of `/remedy trust`: the suggestions follow as soon as the evidence is counted."""
    return Message(text=":hourglass: Reading the team's recent decisions…")


def limit_words(result: LimitResult | SetAside, policy: Policy) -> Message:
    """What a lead is told after changing a limit, or trying to."""
    if isinstance(result, LimitChanged):
        return limit_changed(result.change, result.policy)
    if isinstance(result, NoLongerSuggested):
        return no_longer_suggested(policy, result.remedy_id)
    if isinstance(result, SetAside):
        return set_aside(policy, result.remedy_id)
    return Message(text=result.reason)


def no_longer_suggested(policy: Policy, remedy_id: str) -> Message:
    return Message(
        text=f"The evidence for *{_label(policy, remedy_id)}* no longer supports that raise (the limits or the "
        "decisions have moved since). `/remedy trust` shows what it supports now."
    )


def set_aside(policy: Policy, remedy_id: str) -> Message:
    return Message(
        text=f"Not now, then. Leeway won't suggest this for *{_label(policy, remedy_id)}* again until "
        f"there are {policy.trust.min_decisions} more decisions to go on, or {policy.trust.window.days} days "
        "of new ones."
    )


def limits_history(changes: Sequence[LimitChange], policy: Policy) -> Message:
    if not changes:
        return Message(text="No limit has been changed yet: the policy file's limits apply.")
    lines = ["*Limit changes, newest first*"]
    lines += [f"{c.at:%Y-%m-%d} " + change_record(c, policy).text.removeprefix("📋 ") for c in changes]
    return Message(text="\n".join(lines), blocks=[section(c) for c in chunks(lines)])
