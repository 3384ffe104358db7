"""Builds the Bolt app. Never at import time: tests and the demo build their own."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient
from sqlalchemy.exc import SQLAlchemyError

from bot import services
from bot.background import Background
from bot.outbox import Sender
from bot.outbox.transport import may_reply_to
from bot.slack import views
from bot.slack.installation import Installation
from bot.slack.listeners import actions, commands, forms, home, reactions

log = logging.getLogger("leeway.slack")


def build_app(
    *,
    client: WebClient,
    signing_secret: str,
    ctx: services.Context,
    sender: Sender,
    installation: Installation,
    reports: Background,
) -> App:
    """`reports`: where /remedy's reports are read, behind the acks."""
    app = App(
        # Bolt takes the token from `authorize`; listeners never call Slack themselves (the outbox does).
        client=WebClient(base_url=client.base_url, timeout=client.timeout, retry_handlers=client.retry_handlers),
        signing_secret=signing_secret,
        # Listeners do their quick database work before the ack and leave Slack calls to the
        # outbox, so the ack is the reply; this also skips Bolt's 10 ms ack-polling loop.
        process_before_response=True,
        # What auth.test said at start: Bolt never calls Slack before an ack.
        authorize=installation.authorizer(),
        before_authorize=installation.only_ours(),
    )
    app.use(PolicyInForce(ctx))

    commands.register(app, ctx, sender, reports)
    actions.register(app, ctx, sender)
    forms.register(app, ctx)
    reactions.register(app, ctx)
    home.register(app, ctx)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        reference = uuid.uuid4().hex[:8]
        log.exception("unexpected error (ref %s) while handling %s", reference, _what(body), exc_info=error)
        text = views.went_wrong(reference)
        if body.get("command"):
            return _json({"response_type": "ephemeral", "text": text})
        if body.get("type") == "view_submission":
            # Keep the form open, with what was typed, and say so on its first field.
            inputs = [b["block_id"] for b in (body.get("view") or {}).get("blocks", []) if b.get("type") == "input"]
            if inputs:
                return _json({"response_action": "errors", "errors": views.form_errors({inputs[0]: text})})
        elif body.get("response_url") and may_reply_to(str(body["response_url"]), api_url=client.base_url):
            # Straight to Slack, not through the outbox: the database may be what failed. Only to
            # Slack's own hosts, and never retried inside the call (it could say it twice).
            try:
                WebhookClient(str(body["response_url"]), timeout=5, retry_handlers=[]).send(
                    text=text, response_type="ephemeral", replace_original=False
                )
            except Exception:
                log.exception("could not tell the user about error %s", reference)
        return BoltResponse(status=200, body="")

    return app


class PolicyInForce(Middleware):
    """A limit a lead changed on another instance applies here within LIMITS_REFRESH_SECONDS.
    (A Middleware of Bolt's own kind: Bolt calls it as it is, where a plain function would have
    its arguments built for it on every request.)"""

    def __init__(self, ctx: services.Context) -> None:
        self.ctx = ctx

    def process(
        self,
        *,
        req: BoltRequest,  # noqa: ARG002 (Bolt's signature)
        resp: BoltResponse,  # noqa: ARG002 (Bolt's signature)
        next: Callable[[], BoltResponse],
    ) -> BoltResponse:
        try:
            self.ctx.refresh_policy_if_due()
        except SQLAlchemyError:
            # The request's own database work will say what failed; the last limits known stand.
            log.warning("could not read the limits in force; using the last known", exc_info=True)
        return next()


def _json(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(status=200, body=json.dumps(payload), headers={"content-type": "application/json"})


def _what(body: dict[str, Any]) -> str:
    if body.get("command"):
        return f"command {body['command']}"
    if body.get("type") == "event_callback":
        return f"event {(body.get('event') or {}).get('type')}"
    return str(body.get("type", "request"))
