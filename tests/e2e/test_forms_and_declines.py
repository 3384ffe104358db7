"""The proposal form, and declines, which stay private."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tests.e2e.support import Bot

INPUT = "input"


def opened_form(bot: Bot, count: int = 1) -> dict[str, Any]:
    bot.api.wait_for("views.open", count=count)
    return bot.api.views_opened()[-1]


def initial(form: dict[str, Any], block_id: str) -> Any:
    element = next(b for b in form["blocks"] if b.get("block_id") == block_id)["element"]
    option = element.get("initial_option")
    return option["value"] if option else element.get("initial_value") or element.get("initial_user")


def test_no_text_opens_the_form_with_every_field(bot: Bot) -> None:
    reply = bot.driver.command("U0ANA", "", trigger_id="13345224609.738474920.8088930838d88f008e0")
    assert reply.status == 200
    assert reply.body == ""
    call = bot.api.wait_for("views.open")[0]
    assert call.args["trigger_id"] == "13345224609.738474920.8088930838d88f008e0"
    form = bot.api.views_opened()[-1]
    assert form["callback_id"] == "propose_form"
    labels = json.dumps([b.get("label") for b in form["blocks"]])
    for label in (
        "Remedy",
        "Amount",
        "Case reference",
        "What happened",
        "What does the customer think would be fair?",
        "Peer to ask",
    ):
        assert label in labels, label
    remedies = next(b for b in form["blocks"] if b["block_id"] == "remedy_id")["element"]["options"]
    assert [o["value"] for o in remedies] == ["refund", "late_fee", "extension", "meal"]


def test_incomplete_text_opens_the_form_prefilled(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 80 <@U0CHO> fair:30 parcel never came")
    form = opened_form(bot)
    assert initial(form, "remedy_id") == "refund"
    assert initial(form, "amount") == "$80"
    assert initial(form, "fair") == "$30"
    assert initial(form, "peer") == "U0CHO"
    assert initial(form, "summary") == "parcel never came"
    assert initial(form, "case_ref") is None
    assert json.loads(form["private_metadata"]) == {"channel": "C0GENERAL"}


def test_submitting_the_form_follows_the_same_path(bot: Bot) -> None:
    bot.driver.command("U0ANA", "")
    form = opened_form(bot)
    reply = bot.driver.submit_view(
        "U0ANA",
        form,
        {
            "remedy_id": {INPUT: "late_fee"},
            "amount": {INPUT: "$45.50"},
            "case_ref": {INPUT: "ACC-123"},
            "summary": {INPUT: "billing outage <b>not</b> their fault"},
            "fair": {INPUT: "40"},
            "peer": {INPUT: None},
        },
    )
    assert reply.status == 200
    assert reply.body == ""
    note = bot.api.wait_for("chat.postMessage", channel="U0ANA")[0].args
    assert "I've asked <@U0BEN>" in note["text"]
    request = bot.request_message()
    assert "&lt;b&gt;not&lt;/b&gt;" in json.dumps(request["blocks"])  # typed text never becomes markup
    proposal = bot.only_proposal()
    assert (proposal.remedy_id, proposal.amount, proposal.customer_fair, proposal.case_ref) == (
        "late_fee",
        Decimal("45.50"),
        Decimal("40.00"),
        "ACC-123",
    )


def test_a_form_within_your_authority_is_granted(bot: Bot) -> None:
    bot.driver.command("U0ANA", "meal")
    form = opened_form(bot)
    bot.driver.submit_view(
        "U0ANA", form, {"amount": {INPUT: "18"}, "case_ref": {INPUT: "T-9"}, "summary": {INPUT: "cold food"}}
    )
    assert "Granted — go ahead" in bot.api.wait_for("chat.postMessage", channel="U0ANA")[0].args["text"]
    assert len(bot.api.wait_for("chat.postMessage", channel="C0KUD")) == 1


def test_form_errors_show_in_place_and_nothing_is_stored(bot: Bot) -> None:
    bot.driver.command("U0ANA", "")
    form = opened_form(bot)
    reply = bot.driver.submit_view(
        "U0ANA",
        form,
        {
            "remedy_id": {INPUT: "refund"},
            "amount": {INPUT: "-3"},
            "case_ref": {INPUT: ""},
            "summary": {INPUT: "x\x00y"},
            "fair": {INPUT: "lots"},
        },
    )
    errors = reply.json["errors"]
    assert reply.json["response_action"] == "errors"
    assert set(errors) == {"amount", "case_ref", "summary", "fair"}
    assert "more than zero" in errors["amount"]
    assert "control characters" in errors["summary"]
    reply = bot.driver.submit_view(
        "U0ANA",
        form,
        {"remedy_id": {INPUT: "refund"}, "amount": {INPUT: "9000"}, "case_ref": {INPUT: "#1"}, "summary": {INPUT: "x"}},
    )
    assert "outside policy" in reply.json["errors"]["amount"]
    reply = bot.driver.submit_view(
        "U0ANA",
        form,
        {
            "remedy_id": {INPUT: "refund"},
            "amount": {INPUT: "300"},
            "case_ref": {INPUT: "#1"},
            "summary": {INPUT: "x"},
            "peer": {INPUT: "U0BEN"},
        },
    )
    assert "only a lead" in reply.json["errors"]["peer"]
    bot.settle()
    assert bot.proposals() == []


def test_submitting_the_same_form_twice_proposes_once(bot: Bot) -> None:
    bot.driver.command("U0ANA", "")
    form = opened_form(bot)
    values = {
        "remedy_id": {INPUT: "refund"},
        "amount": {INPUT: "90"},
        "case_ref": {INPUT: "#9"},
        "summary": {INPUT: "x"},
    }
    form = {**form, "id": "V0SAMEFORM"}
    for _ in range(3):
        assert bot.driver.submit_view("U0ANA", form, values).status == 200
    bot.api.wait_for("chat.postMessage", channel="C0REQ")
    bot.settle()
    assert len(bot.proposals()) == 1
    assert len(bot.posts_to("C0REQ")) == 1


def decline(bot: Bot, user: str, reason: str | None, *, request_count: int = 1) -> dict[str, Any]:
    request = bot.request_message(count=request_count)
    bot.driver.click_button(user, channel="C0REQ", ts=request["ts"], action_id="decline")
    form = opened_form(bot)
    assert form["callback_id"] == "decline_form"
    reply = bot.driver.submit_view(user, form, {"reason": {INPUT: reason}})
    assert reply.status == 200
    return request


def test_a_decline_is_private_and_the_request_just_reads_closed(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 120 #4711 parcel arrived broken")
    request = decline(bot, "U0BEN", "They already got a replacement, maybe a voucher instead?")

    note = bot.api.wait_for("chat.postMessage", channel="U0ANA")[0].args
    assert "wasn't agreed this time" in note["text"]
    assert "replacement" in note["text"]
    update = bot.api.wait_for("chat.update", channel="C0REQ")[0].args
    shown = json.dumps(update)
    assert "closed" in shown
    for secret in ("U0BEN", "replacement", "declin", "U0ANA"):
        assert secret not in shown, secret
    bot.settle()
    assert bot.posts_to("C0DEC") == []
    assert bot.posts_to("C0KUD") == []
    closed = bot.api.message("C0REQ", request["ts"])
    assert closed is not None
    assert closed["text"].endswith("is closed. Nothing more is needed here.")
    proposal = bot.only_proposal()
    assert (proposal.status, proposal.decline_reason) == (
        "declined",
        "They already got a replacement, maybe a voucher instead?",
    )


def test_a_decline_without_a_reason(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 120 #4711 x")
    decline(bot, "U0CHO", None)
    note = bot.api.wait_for("chat.postMessage", channel="U0ANA")[0].args
    assert "didn't give a reason" in note["text"]


def test_no_one_may_agree_after_a_decline_and_no_one_may_decline_after_a_grant(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 120 #1 x")
    request = decline(bot, "U0BEN", "no")
    bot.api.wait_for("chat.update", channel="C0REQ")
    bot.driver.react("U0CHO", "white_check_mark", channel="C0REQ", ts=request["ts"])
    # The buttons are gone from the message now, but a client that still shows them can click.
    stale = str(bot.only_proposal().id)
    bot.driver.click("U0DAN", action_id="approve", value=stale, channel="C0REQ", message=request)
    assert "already closed" in bot.api.wait_for("chat.postEphemeral", user="U0DAN")[0].args["text"]
    assert bot.only_proposal().status == "declined"

    bot.driver.command("U0ANA", "refund 120 #2 x")
    second = bot.request_message(count=2)
    bot.driver.click_button("U0CHO", channel="C0REQ", ts=second["ts"], action_id="decline")
    form = opened_form(bot, count=2)
    bot.driver.click_button("U0DAN", channel="C0REQ", ts=second["ts"], action_id="approve")
    bot.api.wait_for("chat.postMessage", channel="C0DEC")
    reply = bot.driver.submit_view("U0CHO", form, {"reason": {INPUT: "hmm"}})
    assert "already granted" in reply.json["errors"]["reason"]
    assert [p.status for p in bot.proposals()] == ["declined", "granted"]


def test_only_those_who_may_agree_may_decline(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 300 #1 x")  # lead tier
    request = bot.request_message()
    bot.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="decline")
    told = bot.api.wait_for("chat.postEphemeral", user="U0BEN")[0].args
    assert "only a lead can agree or decline" in told["text"]
    bot.settle()
    assert bot.api.calls_to("views.open") == []
    assert bot.only_proposal().status == "pending"
