"""What a careful second reader found, kept fixed: hostile bytes, failures mid-way, races."""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import services
from bot.core.policy import Remedy
from bot.slack import views
from bot.standin.driver import sign
from storage.models import Approval, Decision, ProposalEvent
from tests.e2e.support import SIGNING_SECRET, Bot, start_bot
from tests.e2e.test_no_one_waits import HOURS_POLICY
from tests.policies import team_policy
from tests.support import FakeClock, wipe


def test_a_long_decline_reason_still_reaches_the_proposer(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 120 #4711 x")
    request = bot.request_message()
    bot.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="decline")
    bot.api.wait_for("views.open")
    reason = ("<&>" * 300 + "\n") * 3  # escaping makes it far longer than Slack's 3,000 characters
    reply = bot.driver.submit_view("U0BEN", bot.api.views_opened()[-1], {"reason": {"input": reason[:1000]}})
    assert reply.status == 200
    note = bot.api.wait_for("chat.postMessage", channel="U0ANA")[0].args
    assert "wasn't agreed this time" in note["text"]
    assert all(len(b["text"]["text"]) <= 3000 for b in note["blocks"] if b["type"] == "section")


def test_an_unexpected_failure_keeps_the_form_open_and_says_so(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    bot.driver.command("U0ANA", "")
    bot.api.wait_for("views.open")
    form = bot.api.views_opened()[-1]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "propose", broken)
    reply = bot.driver.submit_view(
        "U0ANA",
        form,
        {
            "remedy_id": {"input": "refund"},
            "amount": {"input": "9"},
            "case_ref": {"input": "#1"},
            "summary": {"input": "x"},
        },
    )
    assert reply.json["response_action"] == "errors"
    assert "Something went wrong on Leeway's side (ref" in reply.json["errors"]["remedy_id"]


def test_an_unexpected_failure_on_a_click_is_answered_privately(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    bot.driver.command("U0ANA", "refund 80 #1 x")
    request = bot.request_message()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "agree", broken)
    bot.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="approve")
    said = bot.api.wait_for("response_url")[0].args
    assert "Something went wrong" in said["text"]
    assert said["response_type"] == "ephemeral"


def test_concurrent_proposals_spread_the_asks_fairly(bot: Bot) -> None:
    start = threading.Barrier(5)
    asked: list[str] = []

    def propose(i: int) -> None:
        start.wait()
        text = bot.driver.command("U0ANA", f"refund 80 #{i} x").json["text"]
        asked.append(text.split("asked <@")[1].split(">")[0])

    threads = [threading.Thread(target=propose, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(asked) == ["U0BEN", "U0CHO", "U0DAN", "U0LEE", "U0LIZ"]


def test_unauthenticated_bytes_never_get_past_the_signature_check(bot: Bot) -> None:
    body = b"command=%2Fremedy&text=refund+10+%231+x&user_id=U0ANA"
    assert (
        bot.driver.post(
            body,
            "application/x-www-form-urlencoded",
            signature="v0=abc",
            extra_headers={"X-Slack-Request-Timestamp": "not-a-number"},
        ).status
        == 401
    )
    latin1 = "text=caf\xe9".encode("latin-1")
    assert bot.driver.post(latin1, "application/x-www-form-urlencoded", signature="v0=abc").status == 401
    # Slack signs UTF-8; bytes that aren't can't be verified as Slack's, so they are refused as unsigned.
    now = int(time.time())
    signed = bot.driver.post(
        latin1, "application/x-www-form-urlencoded", timestamp=now, signature=sign(SIGNING_SECRET, now, latin1)
    )
    assert signed.status == 401
    bot.settle()
    assert bot.proposals() == []


def test_a_forged_button_value_changes_nothing(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 80 #1 x")
    bot.request_message()
    bot.driver.click("U0BEN", action_id="approve", value="9" * 40, channel="C0REQ")
    assert "no longer exists" in bot.api.wait_for("chat.postEphemeral", user="U0BEN")[0].args["text"]
    assert bot.only_proposal().status == "pending"


def test_a_form_slack_would_not_open_is_explained(bot: Bot) -> None:
    bot.api.fail_next("views.open", "expired_trigger_id")
    assert bot.driver.command("U0ANA", "refund").status == 200
    told = bot.api.wait_for("chat.postMessage", channel="U0ANA")[0].args["text"]
    assert "didn't let me open the form" in told
    assert "/remedy <remedy>" in told


def test_submitting_a_form_twice_says_so_once(bot: Bot) -> None:
    bot.driver.command("U0ANA", "")
    bot.api.wait_for("views.open")
    form = {**bot.api.views_opened()[-1], "id": "V0TWICE"}
    values = {
        "remedy_id": {"input": "refund"},
        "amount": {"input": "9"},
        "case_ref": {"input": "#1"},
        "summary": {"input": "x"},
    }
    for _ in range(3):
        bot.driver.submit_view("U0ANA", form, values)
    bot.api.wait_for("chat.postMessage", channel="C0KUD")
    bot.settle()
    assert len(bot.posts_to("U0ANA")) == 1


def test_withdrawing_before_working_hours_never_posts_the_request(
    slack: Any, database_url: str, engine: Any, tmp_path: Path
) -> None:

    slack.reset()
    wipe(engine)
    clock = FakeClock(FakeClock()().replace(day=27, hour=17, minute=55))  # Friday 18:55 in Warsaw
    bot = start_bot(slack, database_url, tmp_path, policy=HOURS_POLICY, clock=clock)
    try:
        bot.driver.command("U0ANA", "refund 80 #4711 x")
        assert "Withdrawn" in bot.driver.command("U0ANA", "withdraw #4711").json["text"]
        bot.settle()
        clock.advance(days=3)
        bot.settle()
        bot.settle()
        assert bot.api.calls_to("chat.postMessage", channel="C0REQ") == []
        assert bot.api.calls_to("chat.update") == []
        assert {(m.kind, m.status) for m in bot.outbox()} == {("request", "failed"), ("request_update", "failed")}
    finally:
        bot.server.stop()
        bot.leeway.close()
        wipe(engine)
        slack.reset()


def test_out_of_policy_names_who_can_grant_the_most() -> None:
    policy = team_policy()
    no_leads = Remedy(
        id="voucher", label="Voucher", alone_up_to=Decimal(10), peer_up_to=Decimal(40), lead_up_to=Decimal(0)
    )
    text = views.out_of_policy(no_leads, Decimal(50), policy).text
    assert "the most two agents can agree to is $40" in text
    assert "lead" not in text.split("\n")[0]


def test_request_blocks_stay_within_slacks_limits(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 80 #1 " + "<&>" * 450)  # 1,350 typed; escaped, over 5,000
    request = bot.request_message()
    assert all(len(b["text"]["text"]) <= 3000 for b in request["blocks"] if b.get("text"))
    assert json.dumps(request).count("&lt;&amp;&gt;") > 100


def test_proposals_arriving_together_are_each_recorded_whole(bot: Bot) -> None:

    start = threading.Barrier(12)
    replies: list[str] = []

    def propose(i: int) -> None:
        start.wait()
        replies.append(bot.driver.command("U0ANA", f"refund 10 #{i} together").json["text"])

    threads = [threading.Thread(target=propose, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(int(r.split("case *#")[1].split("*")[0]) for r in replies) == list(range(12))
    assert all("Granted — go ahead" in r for r in replies)
    bot.settle()
    proposals = bot.proposals()
    assert sorted(p.case_ref for p in proposals) == sorted(f"#{i}" for i in range(12))
    with bot.session() as session:
        for proposal in proposals:  # each with its own history, agreement, audit record and posts
            kinds = session.scalars(
                select(ProposalEvent.kind).where(ProposalEvent.proposal_id == proposal.id).order_by(ProposalEvent.id)
            ).all()
            assert kinds == ["proposed", "granted"]
        assert session.scalar(select(func.count()).select_from(Approval)) == 12
        assert session.scalar(select(func.count()).select_from(Decision)) == 12
    decisions = [p["text"] for p in bot.posts_to("C0DEC")]
    assert sorted(int(t.split("case #")[1].split()[0]) for t in decisions) == list(range(12))


def test_one_submission_delivered_twice_at_once_is_recorded_once(bot: Bot) -> None:
    start = threading.Barrier(6)
    replies: list[str] = []

    def propose(text: str, trigger: str) -> None:
        start.wait()
        replies.append(bot.driver.command("U0ANA", text, trigger_id=trigger).json["text"])

    # Slack redelivers one command (same trigger) while other proposals arrive alongside it.
    jobs = [("refund 10 #1 once", "T.same")] * 3 + [(f"refund 10 #{i} other", f"T.{i}") for i in (2, 3, 4)]
    threads = [threading.Thread(target=propose, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all("Granted — go ahead" in r for r in replies)
    assert len(replies) == 6
    bot.settle()
    assert sorted(p.case_ref for p in bot.proposals()) == ["#1", "#2", "#3", "#4"]
    assert len(bot.posts_to("C0DEC")) == 4
    assert len(bot.posts_to("C0KUD")) == 4
