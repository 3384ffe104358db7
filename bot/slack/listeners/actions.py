"""Approve and Decline buttons on a request. The button's value only names the proposal:
everything else (amount, remedy, proposer, who may agree) is read from the database."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import services
from bot.outbox import Sender
from bot.slack import ids, views


def proposal_id_of(body: dict[str, Any]) -> int:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return -1


def channel_of(body: dict[str, Any]) -> str | None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return str(channel) if channel else None


def tell_outcome(ctx: services.Context, user: str, channel: str | None, result: object) -> None:
    """Private words for a click that changed nothing."""
    if isinstance(result, services.Refused):
        services.tell(ctx, user=user, channel=channel, text=result.reason)
    elif isinstance(result, services.AlreadyDecided):
        services.tell(ctx, user=user, channel=channel, text=views.already_decided(result.proposal))
    elif isinstance(result, services.NotFound):
        services.tell(ctx, user=user, channel=channel, text="That request no longer exists.")


def register(app: App, ctx: services.Context, sender: Sender) -> None:
    def on_approve(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        result = services.agree(ctx, proposal_id=proposal_id_of(body), user=user, via="button")
        tell_outcome(ctx, user, channel_of(body), result)

    def ack_only(ack: Ack) -> None:
        ack()

    def open_decline_form(body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        channel = channel_of(body)
        checked = services.may_decide(ctx, proposal_id=proposal_id_of(body), user=user)
        if isinstance(checked, services.Refused | services.AlreadyDecided | services.NotFound):
            tell_outcome(ctx, user, channel, checked)
            return
        sender.open_view(trigger_id=body["trigger_id"], view=views.decline_form(checked, channel=channel))

    def on_withdraw(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        result = services.withdraw(ctx, user=user, proposal_id=proposal_id_of(body))
        services.tell(ctx, user=user, channel=channel_of(body), text=views.withdraw_result(result))

    def open_form_again(body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        draft = services.draft_again(ctx, proposal_id=proposal_id_of(body), user=user)
        if isinstance(draft, services.Refused):
            services.tell(ctx, user=user, text=draft.reason)
            return
        form = views.proposal_form(ctx.policy, draft, origin_channel=None)
        sender.open_view(trigger_id=body["trigger_id"], view=form)

    app.action(ids.Action.APPROVE)(on_approve)
    app.action(ids.Action.WITHDRAW)(on_withdraw)
    app.action(ids.Action.PROPOSE_AGAIN)(ack=ack_only, lazy=[open_form_again])
    app.action(ids.Action.DECLINE)(ack=ack_only, lazy=[open_decline_form])
