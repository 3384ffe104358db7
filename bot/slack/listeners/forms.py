"""Form submissions: the proposal form and the decline form. Input errors show in place."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App

from bot import services
from bot.core.parsing import Draft, InputError, check_case_ref, check_summary, match_remedy, parse_amount
from bot.core.policy import Policy
from bot.core.vocabulary import ReviewOutcome
from bot.outbox import Sender
from bot.slack import ids, views


def _value(values: dict[str, Any], block: ids.Block) -> Any:
    element = (values.get(block) or {}).get(ids.Action.INPUT) or {}
    if "selected_option" in element:
        option = element["selected_option"]
        return option.get("value") if option else None
    if "selected_user" in element:
        return element["selected_user"]
    return element.get("value")


def draft_from_form(values: dict[str, Any], policy: Policy) -> tuple[Draft | None, dict[str, str]]:
    """Every field is checked, so all problems show at once."""
    errors: dict[str, str] = {}

    def check(block: ids.Block, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as error:
            errors[block] = error.message[:150]
            return None

    remedy_id = _value(values, ids.Block.REMEDY)
    remedy = check(ids.Block.REMEDY, match_remedy, remedy_id, policy) if remedy_id else None
    if not remedy_id:
        errors[ids.Block.REMEDY] = "Choose a remedy."
    amount_text = _value(values, ids.Block.AMOUNT) or ""
    fair_text = _value(values, ids.Block.FAIR) or ""
    amount = fair = None
    if remedy is not None:
        amount = check(ids.Block.AMOUNT, parse_amount, amount_text, remedy, policy)
        if fair_text.strip():
            fair = check(ids.Block.FAIR, parse_amount, fair_text, remedy, policy, what="fair", allow_zero=True)
    case_ref = check(ids.Block.CASE, check_case_ref, _value(values, ids.Block.CASE) or "")
    summary = check(ids.Block.SUMMARY, check_summary, _value(values, ids.Block.SUMMARY) or "")
    if errors:
        return None, errors
    return Draft(
        remedy_id=remedy.id if remedy else None,
        amount=amount,
        case_ref=case_ref,
        summary=summary,
        fair=fair,
        peer=_value(values, ids.Block.PEER),
    ), {}


def register(app: App, ctx: services.Context, sender: Sender) -> None:
    def on_proposal_form(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        draft, errors = draft_from_form(view["state"]["values"], ctx.policy)
        if draft is None:
            ack(response_action="errors", errors=errors)
            return
        metadata = json.loads(view.get("private_metadata") or "{}")
        try:
            result = services.propose(
                ctx, proposer=user, draft=draft, origin_channel=metadata.get("channel"), source_key=f"view:{view['id']}"
            )
        except InputError as error:
            ack(response_action="errors", errors={error.field or ids.Block.PEER: error.message[:150]})
            return
        if isinstance(result, services.OutOfPolicy):
            ack(
                response_action="errors",
                errors={ids.Block.AMOUNT: views.out_of_policy_short(result.remedy, result.amount, ctx.policy)},
            )
            return
        if isinstance(result, services.Refused):
            ack(response_action="errors", errors={ids.Block.PEER: result.reason[:150]})
            return
        ack()
        message = views.propose_result(result, ctx.policy)
        services.tell(
            ctx,
            user=user,
            text=message.text,
            dedupe_key=f"form-result:{view['id']}",
            blocks=message.as_kwargs().get("blocks"),
        )

    def on_decline_form(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        metadata = json.loads(view.get("private_metadata") or "{}")
        reason = _value(view["state"]["values"], ids.Block.REASON)
        try:
            result = services.decline(ctx, proposal_id=int(metadata.get("proposal_id", -1)), user=user, reason=reason)
        except InputError as error:
            ack(response_action="errors", errors={ids.Block.REASON: error.message[:150]})
            return
        if isinstance(result, services.Declined):
            ack()
            return
        if isinstance(result, services.Refused):
            message = result.reason
        elif isinstance(result, services.AlreadyDecided):
            message = views.already_decided(result.proposal)
        else:
            message = "That request no longer exists."
        ack(response_action="errors", errors={ids.Block.REASON: message[:150]})

    def on_coaching_form(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        metadata = json.loads(view.get("private_metadata") or "{}")
        note = _value(view["state"]["values"], ids.Block.REASON)
        try:
            result = services.review(
                ctx, user=user, proposal_id=int(metadata.get("proposal_id", -1)), outcome=ReviewOutcome.TALK, note=note
            )
        except InputError as error:
            ack(response_action="errors", errors={ids.Block.REASON: error.message[:150]})
            return
        if isinstance(result, services.Reviewed):
            ack()
            return
        ack(response_action="errors", errors={ids.Block.REASON: views.reviewed(result)[:150]})

    app.view(ids.Callback.PROPOSE)(on_proposal_form)
    app.view(ids.Callback.COACHING)(on_coaching_form)
    app.view(ids.Callback.DECLINE)(on_decline_form)
