"""Approve and Decline buttons on a request. The button's value only names the proposal:
everything else (amount, remedy, proposer, who may agree) is read from the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot import services
from bot.core.parsing import Draft
from bot.core.policy import Tier
from bot.core.vocabulary import CustomerOutcome, ReviewOutcome, Via
from bot.outbox import Sender
from bot.slack import ids, views
from storage.models import Proposal

MAX_ID = 2**31 - 1


def proposal_id_of(body: dict[str, Any]) -> int:
    """The proposal (or nudge) a button names; anything else (forged, overlong) names none."""
    try:
        value = int(str(body["actions"][0]["value"])[:12])
    except (KeyError, IndexError, TypeError, ValueError):
        return -1
    return value if 0 < value <= MAX_ID else -1


def limit_of(body: dict[str, Any]) -> tuple[str, Tier] | None:
    """The remedy and limit a Raise / Not now button names (never a figure: that is re-read)."""
    try:
        remedy_id, _, tier = str(body["actions"][0]["value"])[:60].partition(":")
        return remedy_id, Tier(tier)
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def channel_of(body: dict[str, Any]) -> str | None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return str(channel) if channel else None


def reply_url(body: dict[str, Any]) -> str | None:
    """Clicks on a private message are answered through its response_url: the channel may be
    one Leeway isn't in. Clicks in a channel get an ephemeral there."""
    if (body.get("container") or {}).get("is_ephemeral") and body.get("response_url"):
        return str(body["response_url"])
    return None


def tell(ctx: services.Context, body: dict[str, Any], message: views.Message) -> None:
    """A private line to whoever clicked, where they clicked."""
    services.tell(
        ctx, user=body["user"]["id"], channel=channel_of(body), response_url=reply_url(body), text=message.text
    )


def register(app: App, ctx: services.Context, sender: Sender) -> None:
    def on_approve(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        result = services.agree(ctx, proposal_id=proposal_id_of(body), user=user, via=Via.BUTTON)
        if not isinstance(result, services.Granted):  # a grant shows in the request and the proposer's note
            tell(ctx, body, views.outcome_words(result, ctx.policy))

    def on_take_it(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        # The button only names the request; who may take it, and what it is, come from the database.
        result = services.take_up(ctx, proposal_id=proposal_id_of(body), user=body["user"]["id"], via=Via.BUTTON)
        if not isinstance(result, services.Granted):  # a grant shows in the request and the taker's note
            tell(ctx, body, views.outcome_words(result, ctx.policy))

    def ack_only(ack: Ack) -> None:
        ack()

    def open_decline_form(body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        checked = services.may_decide(ctx, proposal_id=proposal_id_of(body), user=user)
        if not isinstance(checked, Proposal):
            tell(ctx, body, views.outcome_words(checked, ctx.policy))
            return
        if not sender.open_view(
            trigger_id=body["trigger_id"],
            view=views.decline_form(checked, channel=channel_of(body), case_url=ctx.policy.case_url),
        ):
            services.tell(ctx, user=user, channel=channel_of(body), text=views.FORM_DID_NOT_OPEN)

    def on_withdraw(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        result = services.withdraw(ctx, user=user, proposal_id=proposal_id_of(body))
        tell(ctx, body, views.outcome_words(result, ctx.policy))

    def open_form_again(body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        draft = services.draft_again(ctx, proposal_id=proposal_id_of(body), user=user)
        if isinstance(draft, services.Refused):
            services.tell(ctx, user=user, text=views.outcome_words(draft, ctx.policy).text)
            return
        form = views.proposal_form(ctx.policy, draft, origin_channel=None)
        if not sender.open_view(trigger_id=body["trigger_id"], view=form):
            services.tell(ctx, user=user, text=views.FORM_DID_NOT_OPEN)

    def on_looks_good(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        result = services.review(ctx, user=user, proposal_id=proposal_id_of(body), outcome=ReviewOutcome.LOOKS_GOOD)
        tell(ctx, body, views.outcome_words(result, ctx.policy))

    def open_coaching_form(body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        found = services.to_review(ctx, user=user, proposal_id=proposal_id_of(body))
        if not isinstance(found, Proposal):
            tell(ctx, body, views.outcome_words(found, ctx.policy))
            return
        if not sender.open_view(
            trigger_id=body["trigger_id"], view=views.coaching_form(found, case_url=ctx.policy.case_url)
        ):
            services.tell(ctx, user=user, text=views.FORM_DID_NOT_OPEN)

    def on_raise(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        named = limit_of(body)
        if named is None:
            return  # not a button Leeway made
        result = services.raise_limit(ctx, user=body["user"]["id"], remedy_id=named[0], tier=named[1])
        tell(ctx, body, views.limit_words(result, ctx.policy))

    def on_offer(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        remedy_id, _, person = str(((body.get("actions") or [{}])[0]).get("value") or "")[:60].partition(":")
        if not remedy_id or not person:
            return  # not a button Leeway made
        result = services.offer_personal(ctx, user=body["user"]["id"], remedy_id=remedy_id, person=person)
        tell(ctx, body, views.limit_words(result, ctx.policy))

    def on_not_now(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        named = limit_of(body)
        if named is None:
            return
        result = services.not_now(ctx, user=body["user"]["id"], remedy_id=named[0], tier=named[1])
        tell(ctx, body, views.limit_words(result, ctx.policy))

    def on_outcome(outcome: CustomerOutcome) -> Callable[[Ack, dict[str, Any]], None]:
        def told(ack: Ack, body: dict[str, Any]) -> None:
            ack()
            result = services.tell_outcome(
                ctx, user=body["user"]["id"], outcome=outcome, proposal_id=proposal_id_of(body)
            )
            tell(ctx, body, views.outcome_told(result))

        return told

    def open_empty_form(body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        if services.may_propose(ctx, user=user) is not None:
            return  # the Home shows this button only to agents; a stale one does nothing
        if not sender.open_view(
            trigger_id=body["trigger_id"], view=views.proposal_form(ctx.policy, Draft(), origin_channel=None)
        ):
            services.tell(ctx, user=user, text=views.FORM_DID_NOT_OPEN)

    def on_no_more_nudges(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        # The button's value only names the nudge; whose it was is read from the database.
        result = services.stop_nudges(ctx, message_id=proposal_id_of(body), user=body["user"]["id"])
        tell(ctx, body, views.outcome_words(result, ctx.policy))

    app.action(ids.Action.APPROVE)(on_approve)
    app.action(ids.Action.TAKE_IT)(on_take_it)
    app.action(ids.Action.TRUST_RAISE)(on_raise)
    app.action(ids.Action.TRUST_NOT_NOW)(on_not_now)
    app.action(ids.Action.TRUST_OFFER)(on_offer)
    app.action(ids.Action.OUTCOME_DELIGHTED)(on_outcome(CustomerOutcome.DELIGHTED))
    app.action(ids.Action.OUTCOME_OK)(on_outcome(CustomerOutcome.OK))
    app.action(ids.Action.OUTCOME_UNHAPPY)(on_outcome(CustomerOutcome.UNHAPPY))
    app.action(ids.Action.REVIEW_OK)(on_looks_good)
    app.action(ids.Action.REVIEW_TALK)(ack=ack_only, lazy=[open_coaching_form])
    app.action(ids.Action.OPEN_FORM)(ack=ack_only, lazy=[open_empty_form])
    app.action(ids.Action.WITHDRAW)(on_withdraw)
    app.action(ids.Action.PROPOSE_AGAIN)(ack=ack_only, lazy=[open_form_again])
    app.action(ids.Action.DECLINE)(ack=ack_only, lazy=[open_decline_form])
    app.action(ids.Action.NO_MORE_NUDGES)(on_no_more_nudges)
