"""Rules that must hold whatever people (or Slack) do."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.request
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.models import Approval, Decision
from tests.e2e.support import SIGNING_SECRET, Bot


def test_the_proposer_cannot_agree_to_their_own(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 80 #1 x")
    request = bot.request_message()
    bot.driver.click_button("U0ANA", channel="C0REQ", ts=request["ts"], action_id="approve")
    told = bot.api.wait_for("chat.postEphemeral", user="U0ANA")[0].args
    assert "someone else needs to agree" in told["text"]
    bot.driver.react("U0ANA", "white_check_mark", channel="C0REQ", ts=request["ts"])
    bot.settle()
    assert bot.only_proposal().status == "pending"
    # Reactions are handled after the ack; the next valid one must be the one that grants.
    bot.driver.react("U0BEN", "white_check_mark", channel="C0REQ", ts=request["ts"])
    assert bot.wait_for_status("granted").decided_by == "U0BEN"


def test_outsiders_and_bots_cannot_agree(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 80 #1 x")
    request = bot.request_message()
    bot.driver.click_button("U0ZED", channel="C0REQ", ts=request["ts"], action_id="approve")
    assert "Only agents and leads" in bot.api.wait_for("chat.postEphemeral", user="U0ZED")[0].args["text"]
    bot.driver.react("U0ZED", "white_check_mark", channel="C0REQ", ts=request["ts"])
    bot.driver.react("U0LEEWAY", "white_check_mark", channel="C0REQ", ts=request["ts"])  # Leeway's own
    bot.settle()
    assert bot.only_proposal().status == "pending"
    assert bot.api.calls_to("chat.postEphemeral", user="U0LEEWAY") == []
    bot.driver.react("U0CHO", "white_check_mark", channel="C0REQ", ts=request["ts"])
    assert bot.wait_for_status("granted").decided_by == "U0CHO"


def test_reactions_elsewhere_or_of_other_kinds_are_ignored(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 80 #1 x")
    request = bot.request_message()
    bot.driver.react("U0BEN", "eyes", channel="C0REQ", ts=request["ts"])
    bot.driver.react("U0BEN", "white_check_mark", channel="C0REQ", ts="1111111111.000001")
    bot.driver.react("U0BEN", "white_check_mark", channel="C0OTHER", ts=request["ts"])
    bot.settle()
    assert bot.only_proposal().status == "pending"
    bot.driver.react("U0DAN", "heavy_check_mark", channel="C0REQ", ts=request["ts"])
    assert bot.wait_for_status("granted").decided_by == "U0DAN"


def test_outsiders_cannot_propose(bot: Bot) -> None:
    reply = bot.driver.command("U0ZED", "refund 10 #1 x")
    assert "not listed as an agent" in reply.json["text"]
    reply = bot.driver.command("U0ZED", "")
    assert "not listed as an agent" in reply.json["text"]
    bot.settle()
    assert bot.proposals() == []
    assert bot.api.calls_to("views.open") == []


def test_redelivered_events_grant_once_and_post_once(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 80 #1 x")
    request = bot.request_message()
    for retry in (None, 1, 2, 3):
        reply = bot.driver.react(
            "U0BEN", "white_check_mark", channel="C0REQ", ts=request["ts"], event_id="Ev0SAME", retry_num=retry
        )
        assert reply.status == 200
    bot.driver.react("U0CHO", "white_check_mark", channel="C0REQ", ts=request["ts"])  # a second agent, later
    bot.api.wait_for("chat.postMessage", channel="C0KUD")
    bot.settle()
    assert len(bot.posts_to("C0DEC")) == 1
    assert len(bot.posts_to("C0KUD")) == 1
    assert len(bot.posts_to("U0ANA")) == 1
    assert bot.only_proposal().decided_by == "U0BEN"


def test_double_clicks_and_simultaneous_approvals_grant_once(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 80 #1 x")
    request = bot.request_message()
    clickers = ["U0BEN", "U0BEN", "U0CHO", "U0DAN", "U0LEE", "U0LIZ"] * 2
    start = threading.Barrier(len(clickers))
    statuses: list[int] = []

    def click(user: str) -> None:
        start.wait()
        statuses.append(bot.driver.click_button(user, channel="C0REQ", ts=request["ts"], action_id="approve").status)

    threads = [threading.Thread(target=click, args=(u,)) for u in clickers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * len(clickers)
    bot.api.wait_for("chat.postMessage", channel="C0KUD")
    bot.settle()
    assert len(bot.posts_to("C0DEC")) == 1
    assert len(bot.posts_to("C0KUD")) == 1
    proposal = bot.only_proposal()
    assert proposal.status == "granted"
    with bot.session() as session:
        assert session.scalar(select(func.count()).select_from(Approval)) == 1
        assert session.scalar(select(func.count()).select_from(Decision)) == 1
    # Everyone who lost the race hears who won, privately.
    late = [c.args for c in bot.api.wait_for("chat.postEphemeral", count=len(clickers) - 1)]
    assert all(f"<@{proposal.decided_by}> agreed first" in c["text"] for c in late)


def test_facts_come_from_the_database_not_the_button(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 120 #4711 x")
    request = bot.request_message()
    proposal_id = bot.only_proposal().id
    forged = {**request, "text": "refund $1", "blocks": []}
    bot.driver.click("U0BEN", action_id="approve", value=str(proposal_id), channel="C0REQ", message=forged)
    decision = bot.api.wait_for("chat.postMessage", channel="C0DEC")[0].args
    assert "$120" in decision["text"]
    assert "<@U0ANA>" in decision["text"]


def test_a_tampered_button_value_changes_nothing(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 80 #1 x")
    bot.request_message()
    for value in ("not-a-number", "999999", "-1", ""):
        bot.driver.click("U0BEN", action_id="approve", value=value, channel="C0REQ")
    told = bot.api.wait_for("chat.postEphemeral", user="U0BEN", count=4)
    assert all("no longer exists" in c.args["text"] for c in told)
    assert bot.only_proposal().status == "pending"


def _signed(body: bytes, *, secret: str, timestamp: int) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("forgery", ["wrong secret", "stale", "missing", "garbage"])
def test_forged_or_stale_signatures_get_401_and_change_nothing(bot: Bot, forgery: str) -> None:
    body = urlencode(
        {
            "command": "/remedy",
            "text": "refund 10 #1 x",
            "user_id": "U0ANA",
            "team_id": "T0LEEWAY",
            "channel_id": "C0GENERAL",
            "trigger_id": "1.2.3",
            "response_url": "http://127.0.0.1:9/x",
        }
    ).encode()
    now = int(time.time())
    timestamp = now - 6 * 60 if forgery == "stale" else now
    secret = "not-the-secret" if forgery == "wrong secret" else SIGNING_SECRET
    signature = {"missing": "", "garbage": "v0=zzzz"}.get(forgery, _signed(body, secret=secret, timestamp=timestamp))
    reply = bot.driver.post(body, "application/x-www-form-urlencoded", timestamp=timestamp, signature=signature)
    assert reply.status == 401
    bot.settle()
    assert bot.proposals() == []
    assert bot.api.calls_to("chat.postMessage") == []


BAD_INPUT = {
    "teleport 40 #1 x": "don't know the remedy",
    "refund -5 #1 x": "more than zero",
    "refund 0 #1 x": "more than zero",
    "refund lots #1 x": "isn't an amount",
    "refund 1e9 #1 x": "isn't an amount",
    "refund 123456789012 #1 x": "far too large",
    "refund ٤٠ #1 x": "digits 0–9",
    "refund 40 #1 " + "x" * 4000: "characters long",
    "refund 40 #1 parcel\x00broken": "control characters",
    "refund 40 #1 <@U0BEN> <@U0CHO> two peers": "mention just one peer",
    "refund 40 #1 <!channel> everyone look": "not a crowd",
}


def test_bad_input_gets_a_clear_private_message_and_nothing_is_stored(bot: Bot) -> None:
    for text, says in BAD_INPUT.items():
        reply = bot.driver.command("U0ANA", text)
        assert reply.status == 200
        assert says in reply.json["text"], (text[:40], reply.json["text"])
        assert reply.json.get("response_type", "ephemeral") == "ephemeral"
    bot.settle()
    assert bot.proposals() == []
    assert bot.api.calls_to("chat.postMessage") == []
    # ...and the bot keeps serving.
    assert "Granted" in bot.driver.command("U0ANA", "refund 10 #1 fine now").json["text"]


def test_oversized_and_malformed_bodies_get_4xx(bot: Bot) -> None:
    huge = b"payload=" + b"x" * 2_000_000
    assert bot.driver.post(huge, "application/x-www-form-urlencoded").status == 413
    assert bot.driver.post(b"{not json", "application/json").status in (400, 401)
    assert bot.driver.post(b"payload=%7Bnot-json", "application/x-www-form-urlencoded").status in (400, 401)
    assert bot.driver.command("U0ANA", "help").status == 200


def test_health_reports_database_and_policy(bot: Bot) -> None:

    with urllib.request.urlopen(f"{bot.server.url}/healthz", timeout=5) as response:
        report = json.loads(response.read())
        assert response.status == 200
    assert report["status"] == "ok"
    assert report["database"] == "migrated"
    assert report["policy"] == "loaded"
    assert report["outbox"]["pending"] == 0


def test_no_text_through_the_real_endpoint_gets_a_500(bot: Bot) -> None:
    """Hostile text, through signed requests: always an answer for the person, never a crash."""

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.text(max_size=300)
        | st.from_regex(r"(refund|late|ext|meal) [-$0-9.,dDaysUSD]{0,12} #?[0-9]{0,5} .{0,40}", fullmatch=True)
    )
    def hostile(text: str) -> None:
        reply = bot.driver.command("U0ANA", text)
        assert reply.status == 200
        assert reply.body == "" or reply.json.get("text")  # a form opens, or the person is told something

    hostile()
    assert bot.driver.command("U0ANA", "help").status == 200
