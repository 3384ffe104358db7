"""The App Home: what an agent may grant, at a glance, and what is waiting for them."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import services


def register(app: App, ctx: services.Context) -> None:
    def ack_at_once(ack: Ack) -> None:
        ack()

    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            services.refresh_home(ctx, user=str(event["user"]))

    app.event("app_home_opened")(ack=ack_at_once, lazy=[on_home_opened])
