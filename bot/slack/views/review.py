"""What leads look back on: decisions to review, usage, the weekly digest and celebration."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject

from bot.core.policy import Tier, format_amount
from bot.core.usage import AgentUsage, OutcomeCount, UsageReport
from bot.services.review import REVIEW_COUNTED_UP_TO
from bot.slack import ids
from bot.slack.views.markup import (
    OUTSIDE_HOURS,
    Message,
    case,
    chunks,
    duration,
    escape,
    quote,
    seconds_between,
    section,
    time_taken,
    what,
)
from storage.models import Decision, Proposal

# --- decisions to review ---------------------------------------------------------------------


def _decided(proposal: Proposal, decision: Decision) -> str:
    """How long it took, in working time as its record counts it."""
    waited = seconds_between(proposal.created_at, decision.granted_at)
    took = time_taken(decision.seconds_to_decision, waited_seconds=waited)
    if took == OUTSIDE_HOURS:
        return f"decided {took}"
    return "decided at once" if decision.seconds_to_decision == 0 else f"decided in {took}"


def _review_item(proposal: Proposal, decision: Decision, case_url: str | None) -> list[Block]:
    agreed = Tier.ALONE if decision.agreed_by is None else f"with <@{decision.agreed_by}>"
    fair = (
        f" · customer thought fair: {format_amount(proposal.customer_fair, proposal.unit)}"
        if proposal.customer_fair is not None
        else ""
    )
    line = (
        f"<@{proposal.proposer}> · {what(proposal)} · case *{case(proposal, case_url)}* · {agreed} · "
        f"{_decided(proposal, decision)}{fair}\n{quote(proposal.summary)}"
    )
    return [
        section(line),
        ActionsBlock(
            block_id=ids.item_block(ids.Block.REVIEW_ITEM, proposal.id),
            elements=[
                ButtonElement(
                    text="Looks good", action_id=ids.Action.REVIEW_OK, value=str(proposal.id), style="primary"
                ),
                ButtonElement(text="Let's talk", action_id=ids.Action.REVIEW_TALK, value=str(proposal.id)),
            ],
        ),
    ]


def review_blocks(
    items: Sequence[tuple[Proposal, Decision]], total: int, *, case_url: str | None = None
) -> list[Block]:
    """The oldest decisions to review, under how many wait: `total` past REVIEW_COUNTED_UP_TO
    means more than that, and reads "1000+"."""
    if not items:
        return [section("Nothing to review: every decision has been looked at. :sparkles:")]
    blocks: list[Block] = [
        section(
            f"*Decisions to review* ({queue_size(total)}). Only leads see this. Review to learn, "
            "never to blame: these were good-faith decisions, and they stand."
        )
    ]
    for proposal, decision in items:
        blocks.extend(_review_item(proposal, decision, case_url))
    if total > REVIEW_COUNTED_UP_TO:
        more = f"…and more: over {REVIEW_COUNTED_UP_TO} in all, oldest first. No rush: each one stands as decided."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    elif total > len(items):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {total - len(items)} more.")]))
    return blocks


def queue_size(total: int) -> str:
    """How many decisions wait, as a lead reads it: "1000+" past what is counted."""
    return f"{REVIEW_COUNTED_UP_TO}+" if total > REVIEW_COUNTED_UP_TO else str(total)


def review_message(items: Sequence[tuple[Proposal, Decision]], total: int, *, case_url: str | None = None) -> Message:
    return Message(
        text=f"Decisions to review: {queue_size(total)}", blocks=review_blocks(items, total, case_url=case_url)
    )


# --- usage, the digest and the celebration -----------------------------------------------------


def _money(values: dict[str, Decimal]) -> str:
    return " + ".join(format_amount(v, unit) for unit, v in sorted(values.items())) or "nothing"


# At 500 agents a row each would break Slack's limits (50 blocks a message, 3,000 characters a
# section) and no lead reads that far: the table is cut, and so is the list of who to invite.
USAGE_ROWS = 40
INVITED = 40
TEXT_LIMIT = 3000  # a message's own text, as Leeway cuts it (the digest is text alone)


def usage_summary(report: UsageReport) -> list[str]:
    """The headline, who hasn't used their authority yet, and what asking "what's fair" did."""
    days = max(1, round((report.end - report.start).total_seconds() / 86400))
    lines = [
        f"*Usage over the last {days} days*: {report.decisions} decisions; "
        f"{report.used} of {report.team_size} agents used their authority ({report.share:.0%})."
    ]
    if report.self_served:
        times = "time" if report.self_served == 1 else "times"
        lines.append(
            f"*Self-served by customers* (the customer tier): {report.self_served} {times}, "
            f"{_money(report.self_served_value)}, asked in the product and within policy, with no one to wait for."
        )
    if report.not_yet:
        invited = report.not_yet[:INVITED]  # in the policy's order: an invitation list, not a ranking
        more = len(report.not_yet) - len(invited)
        lines.append(
            "*Not yet using their authority*: "
            + ", ".join(f"<@{u}>" for u in invited)
            + (f" and {more} more" if more else "")
            + ". An invitation to coach, not a ranking: ask what would help them decide."
        )
    if report.fair_count:
        other = report.fair_count - report.fair_taken
        lines.append(
            f"*Asking what's fair*: in {report.fair_count} decisions the customer named a figure. "
            f"Taking it would have cost {_money(report.fair_figures)}; agents granted "
            f"{_money(report.granted_where_fair)}. The customer's own figure was granted in "
            f"{report.fair_taken} ({_money(report.fair_taken_value)}), a different amount in {other}."
        )
    if report.outcomes:
        lines.append("*How customers took it*, as agents told it: " + "; ".join(map(_outcome, report.outcomes)) + ".")
        if any(o.unhappy for o in report.outcomes):
            lines.append("A customer still unhappy is something to learn from together, never a mark against anyone.")
    return lines


def _outcome(count: OutcomeCount) -> str:
    parts = [
        f"{n} {word}"
        for n, word in ((count.delighted, "delighted"), (count.ok, "OK"), (count.unhappy, "still unhappy"))
        if n
    ]
    return f"{escape(count.remedy_label)}: " + ", ".join(parts)


def usage_table(agents: Sequence[AgentUsage], limit: int) -> tuple[list[AgentUsage], int]:
    """The rows shown, and how many are left out. Everyone, in the policy's order (a picture of
    the team), when they fit; else those who decided most, then agreed most, ties in the
    policy's order. A cut table is never a list of who did least: someone who has done nothing
    yet is not a row of it, and the invitation list names them instead."""
    if len(agents) <= limit:
        return list(agents), 0
    active = [a for a in agents if a.decisions or a.agreements_given]
    shown = sorted(active, key=lambda a: (-a.decisions, -a.agreements_given))[:limit]
    return shown, len(agents) - len(shown)


def usage_rows(report: UsageReport, limit: int = USAGE_ROWS) -> list[str]:
    shown, left_out = usage_table(report.agents, limit)
    rows = []
    for agent in shown:
        median = duration(int(agent.median_seconds)) if agent.median_seconds is not None else "—"
        rows.append(
            f"• <@{agent.user}>: {agent.decisions} decided ({agent.alone} alone, {agent.with_peer} with a "
            f"peer, {agent.with_lead} with a lead) · {agent.agreements_given} agreements given to others · "
            f"{_money(agent.value)} · median time to decision {median}"
        )
    if left_out:
        rows.append(f"…and {left_out} more (shown: the {len(shown)} who made the most decisions).")
    return rows


def usage_lines(report: UsageReport, limit: int = USAGE_ROWS) -> list[str]:
    summary = usage_summary(report)
    return [summary[0], *usage_rows(report, limit), *summary[1:]]


def usage_message(report: UsageReport) -> Message:
    lines = usage_lines(report)
    blocks: list[Block] = []
    blocks.extend(section(c) for c in chunks(lines)[:50])
    return Message(text="\n".join(lines)[:TEXT_LIMIT], blocks=blocks)


def usage_coming(days: int) -> Message:
    """The ack of `/remedy usage`: the report follows as soon as it is counted."""
    return Message(text=f":hourglass: Counting the last {days} days…")


def review_coming() -> Message:
    """The ack of `/remedy review`: the queue follows as soon as it is read."""
    return Message(text=":hourglass: Gathering the decisions to review…")


def digest_text(report: UsageReport, footer: Sequence[str] = ()) -> str:
    """The digest is text alone: the table is shortened until the whole of it fits. `footer`:
    lines after the figures (how many agents were nudged), kept whole."""

    def digest(limit: int) -> str:
        return "\n".join(["Your weekly Leeway digest (only you can see this).", *usage_lines(report, limit), *footer])

    for limit in range(USAGE_ROWS, 0, -1):
        if len(text := digest(limit)) <= TEXT_LIMIT:
            return text
    return digest(0)[:TEXT_LIMIT]


def celebration_text(report: UsageReport) -> str:
    if not report.decisions:
        return (
            ":seedling: A quiet week for Leeway. Remember: you can fix a customer's problem on the spot. "
            "`/remedy limits` shows what you may grant."
        )
    people = report.people_deciding
    return (
        f":tada: This week {people} {'person' if people == 1 else 'people'} made {report.decisions} "
        f"{'decision' if report.decisions == 1 else 'decisions'} for customers on the spot. Thank you, team!"
    )
