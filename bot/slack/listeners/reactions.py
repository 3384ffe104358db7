"""A ✅ on a request message agrees. Reactions that can't agree are ignored, quietly."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import services


def register(app: App, ctx: services.Context) -> None:
    def ack_at_once(ack: Ack) -> None:
        ack()

    def on_reaction(event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if item.get("type") != "message" or not item.get("channel") or not item.get("ts"):
            return
        services.agree_by_reaction(
            ctx, channel=item["channel"], ts=item["ts"], user=event.get("user", ""), reaction=event.get("reaction", "")
        )

    # After the ack, which stays cheap: the ✅ may grant, or be kept until its request's ts is known.
    app.event("reaction_added")(ack=ack_at_once, lazy=[on_reaction])
