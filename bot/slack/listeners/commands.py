"""`/remedy`: parse, call one service, render. The reply is the ephemeral ack itself, but for
the reports (the review queue, usage), which read history: their ack says the report is coming,
and the report follows as a private reply to the command's response_url."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot import services
from bot.background import Background
from bot.core.parsing import (
    Away,
    Back,
    Command,
    Draft,
    Export,
    Help,
    InputError,
    Limits,
    Review,
    Usage,
    Withdraw,
    parse_command,
)
from bot.core.subcommands import LimitCommand, LimitsHistory, Outcome, ResetLimits, SetLimit, Trust
from bot.outbox import Sender
from bot.slack import views
from bot.slack.reports_process import usage_message, usage_reply

COMMAND = "/remedy"

log = logging.getLogger("leeway.slack")


def reply(ack: Ack, message: views.Message) -> None:
    """Answer the command privately; the ack is the reply."""
    ack(response_type="ephemeral", **message.as_kwargs())


def register(app: App, ctx: services.Context, sender: Sender, reports: Background) -> None:
    @lru_cache(maxsize=256)
    def parse(text: str) -> Command:
        # The matcher below and the listener read the same text: parse it once. (Parsing is pure,
        # and its results are immutable; a rejected text raises again and is not kept.)
        return parse_command(text, ctx.policy)

    def parsed_as(command: dict[str, Any]) -> Command | None:
        """What a matcher or a lazy listener sees: the ack has already answered text it can't read."""
        try:
            return parse(command.get("text") or "")
        except InputError:
            return None

    def on_remedy(ack: Ack, command: dict[str, Any]) -> None:
        user = command["user_id"]
        try:
            parsed = parse(command.get("text") or "")
            if isinstance(parsed, Help):
                reply(ack, views.help_message(ctx.policy))
            elif isinstance(parsed, Limits):
                reply(ack, views.limits_message(ctx.policy_for(user), services.budgets_of(ctx, user=user)))
            elif isinstance(parsed, Away):
                away = services.away(ctx, user=user, until_day=parsed.until, duration=parsed.duration)
                reply(ack, views.outcome_words(away, ctx.policy))
            elif isinstance(parsed, Back):
                reply(ack, views.outcome_words(services.back(ctx, user=user), ctx.policy))
            elif isinstance(parsed, Review):
                reply(ack, views.review_coming())  # the queue follows (post_report below)
            elif isinstance(parsed, Usage):
                reply(ack, views.usage_coming(parsed.days))  # the report follows (post_report below)
            elif isinstance(parsed, Trust):
                reply(ack, views.trust_coming())  # the suggestions follow (post_report below)
            elif isinstance(parsed, Export):
                # The file is built and uploaded by the sender, from the database, when it sends it.
                exported = services.request_export(ctx, user=user, days=parsed.days, key=command["trigger_id"])
                if isinstance(exported, services.Refused):
                    reply(ack, views.outcome_words(exported, ctx.policy))
                else:
                    reply(ack, views.export_on_its_way(exported.days))
            elif isinstance(parsed, SetLimit | ResetLimits | LimitsHistory):
                reply(ack, limits_reply(parsed, user))
            elif isinstance(parsed, Outcome):
                told = services.tell_outcome(ctx, user=user, outcome=parsed.outcome, case_ref=parsed.case_ref)
                reply(ack, views.outcome_told(told))
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

    def limits_reply(parsed: LimitCommand, user: str) -> views.Message:
        """A lead's `/remedy limits set|reset|history`: small reads and one change, in the ack."""
        if isinstance(parsed, LimitsHistory):
            changes = services.limits_history(ctx, user=user)
            if isinstance(changes, services.Refused):
                return views.outcome_words(changes, ctx.policy)
            return views.limits_history(changes, ctx.policy)
        if isinstance(parsed, SetLimit):
            result = services.set_limit(
                ctx, user=user, remedy_id=parsed.remedy_id, tier=parsed.tier, amount=parsed.amount
            )
        else:
            result = services.reset_limits(ctx, user=user, remedy_id=parsed.remedy_id)
        return views.limit_words(result, ctx.policy)

    def open_form(command: dict[str, Any]) -> None:
        parsed = parsed_as(command)
        if not isinstance(parsed, Draft) or parsed.complete:
            return
        if services.may_propose(ctx, user=command["user_id"]) is not None:
            return  # the ack already said why
        form = views.proposal_form(ctx.policy, parsed, origin_channel=command.get("channel_id"))
        if not sender.open_view(trigger_id=command["trigger_id"], view=form):
            services.tell(ctx, user=command["user_id"], text=views.FORM_DID_NOT_OPEN)

    def report(parsed: Review | Trust, user: str) -> views.Message:
        if isinstance(parsed, Trust):
            suggestions = services.trust_for(ctx, user=user)
            if isinstance(suggestions, services.Refused):
                return views.outcome_words(suggestions, ctx.policy)
            return views.trust_message(suggestions, ctx.policy)
        queue = services.review_queue(ctx, user=user)
        if isinstance(queue, services.Refused):
            return views.outcome_words(queue, ctx.policy)
        return views.review_message(*queue, case_url=ctx.policy.case_url)

    def usage_report(parsed: Usage, user: str) -> views.Message:
        window = services.usage_window(ctx, user=user, days=parsed.days)
        if isinstance(window, services.Refused):
            return views.outcome_words(window, ctx.policy)
        start, end = window
        # The longest report: read in the reports process, off the interpreter the acks run on.
        here = lambda: usage_reply(ctx, start=start, end=end)  # noqa: E731  # with no reports process
        return reports.run_apart(usage_message, here=here, start=start, end=end, roster=ctx.roster())

    def post_report(command: dict[str, Any]) -> None:
        """The review queue or usage, after the ack, as a private reply through the outbox."""
        parsed = parsed_as(command)
        if not isinstance(parsed, Review | Usage | Trust):
            return
        user = command["user_id"]
        try:
            if isinstance(parsed, Usage):
                message = usage_report(parsed, user)
            else:
                message = reports.run(lambda: report(parsed, user))
        except Exception:
            # Bolt logs a failed lazy listener in one line, and the person would be left waiting
            # under "Counting…": log it whole, with a reference, and tell them.
            reference = uuid.uuid4().hex[:8]
            log.exception("unexpected error (ref %s) while reporting %s", reference, type(parsed).__name__)
            message = views.Message(text=views.went_wrong(reference))
        services.tell(
            ctx,
            user=user,
            text=message.text,
            channel=command.get("channel_id"),
            response_url=command.get("response_url"),
            blocks=message.as_kwargs().get("blocks"),
        )

    def after_the_ack(command: dict[str, Any]) -> None:
        """What follows the ack: the form, or a report."""
        parsed = parsed_as(command)
        if isinstance(parsed, Review | Usage | Trust):
            post_report(command)
        else:
            open_form(command)

    # Text that leaves the proposal incomplete opens the form after the ack, and the reports are
    # read after it; everything else is answered in the ack itself, without scheduling work (and
    # copying the request) for later. That listener comes first, as most requests are its own.
    app.command(COMMAND, middleware=[_AnsweredInTheAck(parsed_as)])(on_remedy)
    app.command(COMMAND)(ack=on_remedy, lazy=[after_the_ack])


def followed(parsed: Command | None) -> bool:
    """Whether a `/remedy` has work after its ack: text that leaves the proposal incomplete (the
    form), or a report."""
    return isinstance(parsed, Review | Usage | Trust) or (isinstance(parsed, Draft) and not parsed.complete)


class _AnsweredInTheAck(Middleware):
    """Lets a `/remedy` through only if it has no work after its ack (see `followed`); any
    other skips the listener (Bolt's listener middleware that calls no `next`), for the next
    one. A Middleware of Bolt's own kind, not a matcher: Bolt calls it as it is, where a
    matcher function would have all of Bolt's arguments built for it on every request."""

    def __init__(self, parsed_as: Callable[[dict[str, Any]], Command | None]) -> None:
        self.parsed_as = parsed_as

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,  # noqa: ARG002 (Bolt's signature)
        next: Callable[[], BoltResponse],
    ) -> None:
        if not followed(self.parsed_as(req.body)):
            next()
