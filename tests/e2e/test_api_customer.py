"""The customer's own tier through the real server: the product asks Leeway over HTTP, the
customer serves themselves within `customer_up_to`, and above it an agent takes the request up
in Slack and a peer agrees; the refund system hears of each grant by its webhook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from bot.standin import StandInSlack
from tests.e2e.api_support import client, running, token_for
from tests.e2e.support import Bot
from tests.e2e.test_webhooks import ALL_EVENTS, SECRET, SECRET_ENV, signed, webhooks_block
from tests.policies import TEAM_POLICY
from tests.receiver import Receiver

# A customer may waive a late fee of up to $15 themselves; an agent alone up to $20.
CUSTOMER_POLICY = TEAM_POLICY.replace("    alone_up_to: 20\n", "    customer_up_to: 15\n    alone_up_to: 20\n", 1)


@dataclass
class Shop:
    bot: Bot
    http: httpx.Client
    refunds: Receiver

    def ask(self, key: str, **changes: Any) -> httpx.Response:
        body: dict[str, Any] = {
            "remedy": "late_fee",
            "amount": "12",
            "case": "#4711",
            "what_happened": "I was charged a late fee while your site was down.",
            "fair": "12",
            "requested_by": "customer",
            "customer": {"id": "cus_42", "name": "Ada Lovelace"},
            **changes,
        }
        return self.http.post("/proposals", json=body, headers={"Idempotency-Key": key})


@pytest.fixture
def shop(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Shop]:
    """Leeway with the customer tier, a shop's integration, and a refund system's webhook."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with Receiver() as refunds:
        policy = CUSTOMER_POLICY + webhooks_block((refunds.url, ALL_EVENTS, SECRET_ENV))
        with running(slack, database_url, engine, tmp_path, policy=policy) as bot:
            bot.leeway.webhooks.idle_wait = 0.05
            bot.leeway.webhooks.start()
            with client(bot, token_for(bot, "acme-shop")) as http:
                yield Shop(bot, http, refunds)


def test_a_customer_serves_themselves_and_the_refund_system_carries_it_out(shop: Shop) -> None:
    bot = shop.bot
    response = shop.ask("checkout-1")

    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["status"], answer["tier"], answer["requested_by"]) == ("granted", "customer", "customer")
    assert (answer["proposer"], answer["decided_by"]) == (None, None)
    assert shop.http.get(f"/proposals/{answer['id']}").json() == answer

    # The audit trail records it as the customer's own; no person is celebrated for it.
    (decision,) = bot.api.wait_for("chat.postMessage", channel="C0DEC")
    record = json.dumps(decision.args)
    assert "self-served by the customer" in decision.args["text"]
    assert "acme-shop" in record
    assert "Ada Lovelace" in record
    (event,) = [signed(request) for request in shop.refunds.wait_for(1)]
    assert event["type"] == "granted"
    granted = event["data"]["proposal"]
    assert (granted["id"], granted["tier"], granted["amount"], granted["case"]) == (
        answer["id"],
        "customer",
        "12.00",
        "#4711",
    )
    assert granted["customer"] == {"id": "cus_42", "name": "Ada Lovelace"}
    assert (granted["requested_by"], granted["integration"]) == ("customer", "acme-shop")
    assert bot.posts_to("C0KUD") == []
    assert bot.api.calls_to("chat.postMessage", channel="C0REQ") == []


def test_above_the_customer_tier_an_agent_takes_it_up_a_peer_agrees_and_get_shows_it(shop: Shop) -> None:
    bot = shop.bot
    response = shop.ask("checkout-2", amount="60", fair="40")

    assert response.status_code == 202, response.text
    waiting = response.json()
    assert (waiting["status"], waiting["proposer"]) == ("pending", None)

    # The request carries the customer's own words and figure, for any agent to take up.
    request = bot.request_message()
    shown = json.dumps(request["blocks"])
    assert "I was charged a late fee while your site was down." in shown
    assert "$40" in shown
    assert "take_it" in shown
    bot.driver.click_button("U0ANA", channel="C0REQ", ts=request["ts"], action_id="take_it")

    # $60 is above what Ana may grant alone: a peer is asked, as if she had proposed it.
    bot.api.wait_for("chat.update", channel="C0REQ")
    taken = shop.http.get(f"/proposals/{waiting['id']}").json()
    assert (taken["status"], taken["proposer"], taken["tier"]) == ("pending", "U0ANA", "peer")
    assert shop.refunds.received == []  # nothing to carry out yet
    asking = bot.api.message("C0REQ", request["ts"])
    assert asking is not None
    assert "approve" in json.dumps(asking["blocks"])  # the same post, now asking a peer
    bot.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="approve")
    bot.wait_for_status("granted")

    now = shop.http.get(f"/proposals/{waiting['id']}")
    assert now.status_code == 200
    granted = now.json()
    assert (granted["status"], granted["proposer"], granted["decided_by"]) == ("granted", "U0ANA", "U0BEN")
    (event,) = [signed(r) for r in shop.refunds.wait_for(1)]
    assert (event["type"], event["data"]["proposal"]["id"]) == ("granted", waiting["id"])
    assert event["data"]["proposal"]["customer"] == {"id": "cus_42", "name": "Ada Lovelace"}
    # Ana and Ben fixed it together: that is celebrated, as any peer grant is.
    (kudos,) = bot.api.wait_for("chat.postMessage", channel="C0KUD")
    assert "<@U0ANA>" in kudos.args["text"]
    assert "<@U0BEN>" in kudos.args["text"]
