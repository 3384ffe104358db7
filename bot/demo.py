"""`python -m bot demo`: Leeway at work with no Slack workspace.

Starts the real bot (HTTP endpoint, database, outbox) against the stand-in Slack that the
end-to-end tests use, plays a short scenario with signed requests, and prints what each
person would see.
"""

from __future__ import annotations

import re
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bot import jobs
from bot.core.vocabulary import Scope
from bot.runtime import Leeway, StartupError, build
from bot.services import integrations
from bot.settings import Settings
from bot.standin import SlackDriver, StandInSlack, default_spec_path
from bot.standin.driver.blocks import buttons
from bot.web import ServerThread

EXAMPLE_POLICY = Path(__file__).resolve().parent / "policy.example.yml"
NAMES = {"U0ANA": "ana", "U0BEN": "ben", "U0CHO": "cho", "U0LEE": "lee", "U0LEEWAY": "Leeway"}
CHANNELS = {"C0REQUESTS": "requests", "C0DECISIONS": "decisions", "C0KUDOS": "kudos", "C0SUPPORT": "support"}


def readable(text: str) -> str:
    """Slack markup → what a person reads."""
    text = re.sub(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>", lambda m: "@" + NAMES.get(m.group(1), m.group(1)), text)
    text = re.sub(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>", lambda m: "#" + CHANNELS.get(m.group(1), m.group(1)), text)
    text = "\n".join(_links_after(line) for line in text.split("\n"))
    text = re.sub(r":white_check_mark:", "✅", text)
    text = re.sub(r":tada:", "🎉", text)
    text = re.sub(r":raised_hands:", "🙌", text)
    text = re.sub(r":warning:", "⚠️", text)
    text = re.sub(r":hourglass:", "⏳", text)
    text = re.sub(r":wave:", "👋", text)
    text = re.sub(r":raising_hand:", "🙋", text)
    text = re.sub(r":speech_balloon:", "💬", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _links_after(line: str) -> str:
    """A case linked to the helpdesk (the policy's case_url) reads as its reference, with where
    it leads at the end of the line: "… case #4711 … ↗ #4711: https://…"."""
    links: list[str] = []

    def label(found: re.Match[str]) -> str:
        links.append(f"{found.group(2)}: {found.group(1)}")
        return found.group(2)

    line = re.sub(r"<(https?://[^|>]+)\|([^>]*)>", label, line)
    return f"{line}   ↗ {', '.join(dict.fromkeys(links))}" if links else line


def shown(message: dict[str, Any]) -> str:
    """A message as Slack would lay it out: its blocks if it has them, else its text."""
    lines: list[str] = []
    for block in message.get("blocks") or []:
        kind = block.get("type")
        if kind in ("section", "header"):
            if block.get("text"):
                lines.append(block["text"]["text"])
            fields = [f["text"].replace("\n", ": ", 1) for f in block.get("fields") or []]
            if fields:
                lines.append("   ".join(fields))
        elif kind == "context":
            lines.append(" ".join(e.get("text", "") for e in block.get("elements") or []))
        elif kind == "actions":
            lines.append(" ".join(f"[{e['text']['text']}]" for e in block.get("elements") or []))
    body = "\n".join(lines) if lines else str(message.get("text", ""))
    return readable(body)


class Demo:
    def __init__(self, out: Callable[[str], None]) -> None:
        self.out = out
        self.api = StandInSlack(spec_path=default_spec_path())
        self.workdir = tempfile.TemporaryDirectory(prefix="leeway-demo-")
        self.leeway: Leeway | None = None
        self.server: ServerThread | None = None
        self.driver: SlackDriver | None = None

    def __enter__(self) -> Demo:
        self.api.start()
        for user, name in NAMES.items():
            if user != "U0LEEWAY":
                self.api.add_user(user, name=name)
        secret = secrets.token_hex(16)
        settings = Settings(
            slack_bot_token=SecretStr("xoxb-demo"),
            slack_signing_secret=SecretStr(secret),
            slack_api_url=self.api.url,
            leeway_policy=self.demo_policy(),
            database_url=f"sqlite:///{Path(self.workdir.name) / 'leeway-demo.db'}",
            _env_file=None,
        )  # type: ignore[call-arg]
        self.leeway = build(settings)
        self.leeway.sender.idle_wait = 0.05
        self.leeway.sender.start()
        self.server = ServerThread(self.leeway.asgi()).start()
        self.driver = SlackDriver(f"{self.server.url}/slack/events", secret, api=self.api)
        return self

    def demo_policy(self) -> Path:
        """The example policy, but three clean decisions are evidence enough to move a limit
        (the example's twenty would make a long demo)."""
        policy = Path(self.workdir.name) / "policy.yml"
        text = EXAMPLE_POLICY.read_text().replace("min_decisions: 20", "min_decisions: 3")
        # Every message that names a case links it to the helpdesk (shown as "#4711 (https://…)").
        policy.write_text(text + '\ncase_url: "https://helpdesk.example.com/tickets/{case_number}"\n')
        return policy

    def __exit__(self, *exc: object) -> None:
        if self.server:
            self.server.stop()
        if self.leeway:
            self.leeway.close()
        self.api.stop()
        self.workdir.cleanup()

    # --- narration -----------------------------------------------------------------------------

    def scene(self, title: str) -> None:
        self.out(f"\n━━ {title} ━━")

    def sees(self, who: str, text: str) -> None:
        body = "\n".join("   │ " + line for line in text.splitlines())
        self.out(f"   {who}:\n{body}")

    def command(self, user: str, text: str) -> dict[str, Any]:
        assert self.driver is not None
        self.out(f"\n   @{NAMES[user]} types:  /remedy {text}")
        reply = self.driver.command(user, text, channel="C0SUPPORT")
        if reply.status != 200:
            raise RuntimeError(f"the bot answered {reply.status}: {reply.body}")
        answer = reply.json if reply.body else {}
        if answer:
            self.sees(f"@{NAMES[user]} sees (only them)", shown(answer))
        return dict(answer)

    def post(self, channel: str, count: int = 1) -> dict[str, Any]:
        call = self.api.wait_for("chat.postMessage", channel=channel, count=count, timeout=10)[count - 1]
        message = self.api.message(call.response["channel"], call.response["ts"])
        assert message is not None
        return message

    def show_post(self, channel: str, count: int = 1) -> dict[str, Any]:
        message = self.post(channel, count)
        where = f"#{CHANNELS[channel]}" if channel in CHANNELS else f"@{NAMES[channel]}'s messages from Leeway"
        self.sees(f"{where}", shown(message))
        return message

    # --- the scenario ------------------------------------------------------------------------

    def play(self) -> None:
        assert self.driver is not None
        assert self.leeway is not None
        self.out(
            "Leeway demo: the real bot, its HTTP endpoint and database, talking to a stand-in Slack.\n"
            "Policy: bot/policy.example.yml (refunds: alone up to $50, with a peer up to $150, "
            "with a lead up to $500)."
        )

        self.scene("0. Day one: everyone new to the roster gets one private welcome")
        jobs.people_due(self.leeway.ctx)  # the schedule does this at start
        self.show_post("U0ANA")

        self.scene("1. Within her own authority, Ana fixes it on the spot")
        self.command("U0ANA", "refund 30 #4711 parcel arrived broken fair:25")
        self.show_post("C0DECISIONS")
        self.show_post("C0KUDOS")

        self.scene("2. Above it, a peer agrees with a ✅")
        self.command("U0ANA", "refund 90 #4712 charged twice for one order")
        request = self.show_post("C0REQUESTS")
        self.out("\n   @ben reacts ✅ on the request")
        self.driver.react("U0BEN", "white_check_mark", channel="C0REQUESTS", ts=request["ts"])
        self.api.wait_for("chat.update", channel="C0REQUESTS", timeout=10)
        self.sees("#requests now reads", shown(self.api.message("C0REQUESTS", request["ts"]) or {}))
        self.show_post("U0ANA", count=2)
        self.show_post("C0DECISIONS", count=2)
        self.show_post("C0KUDOS", count=2)

        self.scene("3. A decline stays private")
        self.command("U0CHO", "late_fee 60 ACC-9 fee charged during the billing outage")
        request = self.show_post("C0REQUESTS", count=2)
        asked = next(u for u in NAMES if f"<@{u}>, can you agree" in str(request.get("blocks")))
        self.out(f"\n   @{NAMES[asked]} clicks [Decline] and writes a word for Cho")
        self.driver.click_button(asked, channel="C0REQUESTS", ts=request["ts"], action_id="decline")
        self.api.wait_for("views.open", timeout=10)
        form = self.api.views_opened()[-1]
        self.driver.submit_view(
            asked, form, {"reason": {"input": "The outage credit already covered it. Maybe a goodwill note instead?"}}
        )
        self.api.wait_for("chat.update", channel="C0REQUESTS", count=2, timeout=10)
        self.sees(
            "#requests now reads (no names, no reasons)", shown(self.api.message("C0REQUESTS", request["ts"]) or {})
        )
        self.show_post("U0CHO", count=2)

        self.scene("4. Beyond the policy, Leeway explains the limits")
        self.command("U0ANA", "refund 900 #4713 customer wants the whole order back")

        self.scene("5. The funnel moves down: the team's judgement raises a limit")
        self.funnel_moves_down()

        self.scene("6. Its last stage: a customer serves themselves, inside the company's own shop")
        self.customer_serves_themselves()

        self.leeway_summary()

    def funnel_moves_down(self) -> None:
        """Two more refunds with a peer, all three reviewed well: Lee is offered a raise."""
        assert self.driver is not None
        for number, (amount, case) in enumerate([(70, "#4714"), (80, "#4715")], start=3):
            self.driver.command("U0ANA", f"refund {amount} {case} parcel lost in transit", channel="C0SUPPORT")
            request = self.post("C0REQUESTS", count=number)
            self.driver.react("U0BEN", "white_check_mark", channel="C0REQUESTS", ts=request["ts"])
        self.api.wait_for("chat.postMessage", channel="C0DECISIONS", count=4, timeout=10)
        self.out("\n   (Ana and Ben fix two more refunds together, $70 and $80, the same way.)")
        self.command("U0LEE", "review")
        queue = self.api.wait_for("response_url", count=1, timeout=10)[-1].args
        reviews = [e for _, e in buttons(queue.get("blocks") or []) if e["action_id"] == "review_looks_good"]
        self.out(f"   @lee reviews the {len(reviews)} decisions waiting: [Looks good] on each")
        for button in reviews:
            self.driver.click("U0LEE", action_id="review_looks_good", value=button["value"], channel="C0SUPPORT")
        self.api.wait_for("chat.postEphemeral", user="U0LEE", count=len(reviews), timeout=10)
        self.command("U0LEE", "trust")
        reply = self.api.wait_for("response_url", count=2, timeout=10)[-1].args
        self.sees("@lee sees (only them)", shown(reply))
        self.out("\n   @lee clicks [Raise]")
        self.driver.click("U0LEE", action_id="trust_raise", value="refund:alone", channel="C0SUPPORT")
        lee = self.api.wait_for("chat.postEphemeral", user="U0LEE", count=len(reviews) + 1, timeout=10)[-1]
        self.sees("@lee sees (only them)", readable(str(lee.args["text"])))
        self.show_post("C0DECISIONS", count=5)
        self.show_post("C0KUDOS", count=5)
        self.command("U0CHO", "refund 85 #4716 parcel arrived broken")
        self.post("C0DECISIONS", count=6)  # Cho's decision, after the limit's record

    def customer_serves_themselves(self) -> None:
        """The shop asks Leeway over its HTTP API: within `customer_up_to` the customer is served
        at once; above it, the request waits in #requests until an agent takes it up."""
        assert self.leeway is not None
        assert self.server is not None
        assert self.driver is not None
        ctx = self.leeway.ctx
        token = integrations.add_integration(
            ctx.sessions, name="acme-shop", scopes=frozenset({Scope.PROPOSE}), now=ctx.clock()
        )
        self.out("\n   (A lead ran `python -m bot integration add acme-shop`; the shop keeps the token it printed.)")
        with httpx.Client(base_url=f"{self.server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}) as shop:
            for key, amount, case in (("order-5001", "8", "#4720"), ("order-5002", "18", "#4721")):
                body = {
                    "remedy": "late_fee",
                    "amount": amount,
                    "case": case,
                    "what_happened": "Charged a late fee while the payment page was down.",
                    "fair": amount,
                    "requested_by": "customer",
                    "customer": {"id": "cus_42", "name": "Ada Lovelace"},
                }
                self.out(f"\n   Ada asks the shop to waive a ${amount} late fee; the shop sends POST /api/v1/proposals")
                answer = shop.post("/proposals", json=body, headers={"Idempotency-Key": key})
                said = answer.json()
                self.sees("the shop gets", f"{answer.status_code} · status {said['status']} · tier {said['tier']}")
                if said["status"] == "granted":
                    self.show_post("C0DECISIONS", count=7)
        request = self.show_post("C0REQUESTS", count=5)
        self.out("\n   @ana clicks [Take it]")
        self.driver.click_button("U0ANA", channel="C0REQUESTS", ts=request["ts"], action_id="take_it")
        self.api.wait_for("chat.update", channel="C0REQUESTS", count=5, timeout=10)
        self.sees("#requests now reads", shown(self.api.message("C0REQUESTS", request["ts"]) or {}))
        self.show_post("C0DECISIONS", count=8)

    def leeway_summary(self) -> None:
        assert self.leeway is not None
        self.leeway.sender.deliver_due()
        posts = self.api.calls_to("chat.postMessage", channel="C0DECISIONS")
        decisions = sum(str(call.args.get("text", "")).startswith("Granted") for call in posts)
        self.out(
            f"\n━━ Done: {decisions} decisions recorded in #decisions; every one an agent made, celebrated in "
            "#kudos. ━━\n"
            "Next: create the Slack app from manifest.yml and run `python -m bot run` (see README.md)."
        )


def run_demo(out: Callable[[str], None] = print) -> int:
    try:
        with Demo(out) as demo:
            demo.play()
    except StartupError as error:
        print(f"leeway demo: {error}", file=sys.stderr)
        return 2
    return 0
