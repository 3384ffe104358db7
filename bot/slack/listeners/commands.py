"""`/remedy`: parse, call one service, render. The reply is the ephemeral ack itself."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from slack_bolt import Ack, App

from bot import services
from bot.core.parsing import (
    Away,
    Back,
    Command,
    Draft,
    Help,
    InputError,
    Limits,
    Review,
    Usage,
    Withdraw,
    parse_command,
)
from bot.outbox import Sender
from bot.slack import views

COMMAND = "/remedy"


def reply(ack: Ack, message: views.Message) -> None:
    """Answer the command privately; the ack is the reply."""
    ack(response_type="ephemeral", **message.as_kwargs())


def register(app: App, ctx: services.Context, sender: Sender) -> None:
    @lru_cache(maxsize=256)
    def parse(text: str) -> Command:
        # The matcher below and the listener read the same text: parse it once. (Parsing is pure,
        # and its results are immutable; a rejected text raises again and is not kept.)
        return parse_command(text, ctx.policy)

    def on_remedy(ack: Ack, command: dict[str, Any]) -> None:
        user = command["user_id"]
        try:
            parsed = parse(command.get("text") or "")
            if isinstance(parsed, Help):
                reply(ack, views.help_message(ctx.policy))
            elif isinstance(parsed, Limits):
                reply(ack, views.limits_message(ctx.policy))
            elif isinstance(parsed, Away):
                away = services.away(ctx, user=user, until_day=parsed.until, duration=parsed.duration)
                reply(ack, views.outcome_words(away, ctx.policy))
            elif isinstance(parsed, Back):
                reply(ack, views.outcome_words(services.back(ctx, user=user), ctx.policy))
            elif isinstance(parsed, Review):
                queue = services.review_queue(ctx, user=user)
                reply(
                    ack,
                    views.outcome_words(queue, ctx.policy)
                    if isinstance(queue, services.Refused)
                    else views.review_message(*queue),
                )
            elif isinstance(parsed, Usage):
                report = services.usage(ctx, user=user, days=parsed.days)
                reply(
                    ack,
                    views.outcome_words(report, ctx.policy)
                    if isinstance(report, services.Refused)
                    else views.usage_message(report),
                )
            elif isinstance(parsed, Withdraw):
                withdrawn = services.withdraw(ctx, user=user, case_ref=parsed.case_ref)
                reply(ack, views.outcome_words(withdrawn, ctx.policy))
            elif not parsed.complete:
                refused = services.may_propose(ctx, user=user)
                # The form opens after the ack (open_form below): nothing to say here.
                reply(ack, views.outcome_words(refused, ctx.policy)) if refused else ack()
            else:
                result = services.propose(
                    ctx,
                    proposer=user,
                    draft=parsed,
                    origin_channel=command.get("channel_id"),
                    source_key=f"trigger:{command['trigger_id']}",
                )
                reply(ack, views.outcome_words(result, ctx.policy))
        except InputError as error:
            reply(ack, views.not_understood(error))

    def open_form(command: dict[str, Any]) -> None:
        try:
            parsed = parse(command.get("text") or "")
        except InputError:
            return
        if not isinstance(parsed, Draft) or parsed.complete:
            return
        if services.may_propose(ctx, user=command["user_id"]) is not None:
            return  # the ack already said why
        form = views.proposal_form(ctx.policy, parsed, origin_channel=command.get("channel_id"))
        if not sender.open_view(trigger_id=command["trigger_id"], view=form):
            services.tell(ctx, user=command["user_id"], text=views.FORM_DID_NOT_OPEN)

    def needs_form(command: dict[str, Any]) -> bool:
        try:
            parsed = parse(command.get("text") or "")
        except InputError:
            return False
        return isinstance(parsed, Draft) and not parsed.complete

    # Only text that leaves the proposal incomplete opens the form after the ack; everything else
    # is answered in the ack itself, without scheduling work (and copying the request) for later.
    app.command(COMMAND, matchers=[needs_form])(ack=on_remedy, lazy=[open_form])
    app.command(COMMAND)(on_remedy)
