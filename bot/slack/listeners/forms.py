"""Form submissions: the proposal form, the decline form and the coaching form. Input errors
show in place."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_bolt import Ack, App

from bot import services
from bot.core.parsing import Draft, InputError, parse_form
from bot.core.vocabulary import ReviewOutcome
from bot.slack import ids, views


def _value(values: dict[str, Any], block: ids.Block) -> Any:
    element = (values.get(block) or {}).get(ids.Action.INPUT) or {}
    if "selected_option" in element:
        option = element["selected_option"]
        return option.get("value") if option else None
    if "selected_user" in element:
        return element["selected_user"]
    return element.get("value")


def keep_open(ack: Ack, errors: Mapping[str, str]) -> None:
    """Keep the form open, with what was typed, and say what is wrong under each field named."""
    ack(response_action="errors", errors=views.form_errors(errors))


def register(app: App, ctx: services.Context) -> None:
    def on_proposal_form(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        values = view["state"]["values"]
        draft = parse_form(
            ctx.policy,
            remedy_id=_value(values, ids.Block.REMEDY),
            amount=_value(values, ids.Block.AMOUNT),
            case_ref=_value(values, ids.Block.CASE),
            summary=_value(values, ids.Block.SUMMARY),
            fair=_value(values, ids.Block.FAIR),
            peer=_value(values, ids.Block.PEER),
        )
        if not isinstance(draft, Draft):
            keep_open(ack, draft)
            return
        metadata = json.loads(view.get("private_metadata") or "{}")
        try:
            result = services.propose(
                ctx, proposer=user, draft=draft, origin_channel=metadata.get("channel"), source_key=f"view:{view['id']}"
            )
        except InputError as error:
            keep_open(ack, {error.field or ids.Block.PEER: error.message})
            return
        if isinstance(result, services.OutOfPolicy | services.Refused):
            keep_open(ack, views.proposal_form_errors(result, ctx.policy))
            return
        ack()
        message = views.outcome_words(result, ctx.policy)
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
            keep_open(ack, {ids.Block.REASON: error.message})
            return
        if isinstance(result, services.Declined):
            ack()
            return
        keep_open(ack, {ids.Block.REASON: views.outcome_words(result, ctx.policy).text})

    def on_coaching_form(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        metadata = json.loads(view.get("private_metadata") or "{}")
        note = _value(view["state"]["values"], ids.Block.REASON)
        try:
            result = services.review(
                ctx, user=user, proposal_id=int(metadata.get("proposal_id", -1)), outcome=ReviewOutcome.TALK, note=note
            )
        except InputError as error:
            keep_open(ack, {ids.Block.REASON: error.message})
            return
        if isinstance(result, services.Reviewed):
            ack()
            return
        keep_open(ack, {ids.Block.REASON: views.outcome_words(result, ctx.policy).text})

    app.view(ids.Callback.PROPOSE)(on_proposal_form)
    app.view(ids.Callback.COACHING)(on_coaching_form)
    app.view(ids.Callback.DECLINE)(on_decline_form)
