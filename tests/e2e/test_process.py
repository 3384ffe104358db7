"""Leeway as people start it: `python -m bot run` and `python -m bot demo`, in their own process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy import text as sql
from uvicorn.config import STARTUP_FAILURE

from bot.background import NAME as REPORTS_PROCESS
from bot.standin import SlackDriver, StandInSlack
from bot.standin.driver import Reply, sign
from tests.policies import TEAM_POLICY
from tests.support import REPO, wipe

SECRET = "process-signing-secret"
# What the Dockerfile runs; tests/test_deploy.py holds the image to exactly these.
RUN_COMMAND = ("-m", "bot", "run")
HEALTH_COMMAND = ("-m", "bot", "healthcheck")
# These tests run on the real clock. Put the weekly digest three days ahead, so its catch-up
# (which sends a digest missed in the last day) never adds posts to what they count.
_DIGEST_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(time.gmtime().tm_wday + 3) % 7]
# Nor do the welcomes, which the schedule sends everyone at start (tests/e2e/test_encouragement.py
# has them, on a moved clock).
PROCESS_POLICY = TEAM_POLICY + f"digest: {{day: {_DIGEST_DAY}}}\nwelcome: off\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def leeway_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "LEEWAY_")) and k not in ("DATABASE_URL", "PORT", "HOST")
    }
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_healthy(url: str, process: subprocess.Popen[str], timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            errors = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"the bot exited with {process.returncode}: {errors}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return dict(json.loads(response.read()))
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)  # polling a process we started; no test clock involved
    raise AssertionError("the bot never became healthy")


@pytest.fixture
def running_bot(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> Iterator[tuple[SlackDriver, str, subprocess.Popen[str]]]:
    slack.reset()
    wipe(engine)
    (tmp_path / "policy.yml").write_text(PROCESS_POLICY)
    port = free_port()
    env = leeway_env(
        SLACK_BOT_TOKEN="xoxb-process",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.url,
        DATABASE_URL=database_url,
        LEEWAY_POLICY="policy.yml",
        PORT=str(port),
        HOST="127.0.0.1",
    )
    process = subprocess.Popen(
        [sys.executable, *RUN_COMMAND], env=env, cwd=tmp_path, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        yield SlackDriver(f"{base}/slack/events", SECRET, api=slack), base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)
        wipe(engine)
        slack.reset()


def test_python_m_bot_run_serves_slack_over_http(
    running_bot: tuple[SlackDriver, str, subprocess.Popen[str]], slack: StandInSlack
) -> None:
    driver, base, process = running_bot
    health = wait_healthy(f"{base}/healthz", process)
    assert health["status"] == "ok"
    assert health["database"] == "migrated"
    port = base.rsplit(":", 1)[1]
    check = subprocess.run(
        [sys.executable, *HEALTH_COMMAND],
        env=leeway_env(PORT=port),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert check.returncode == 0, check.stderr  # the container's health check, against the real thing
    reply = driver.command("U0ANA", "refund 80 #4711 parcel broken")
    assert reply.status == 200
    assert "I've asked <@U0BEN>" in reply.json["text"]
    request = slack.wait_for("chat.postMessage", channel="C0REQ", timeout=10)[0]
    driver.react("U0CHO", "white_check_mark", channel="C0REQ", ts=request.response["ts"])
    try:
        slack.wait_for("chat.postMessage", channel="C0KUD", timeout=10)
    except AssertionError as error:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=20)
        raise AssertionError(f"{error}\n--- the bot's log ---\n{log[-6000:]}") from None
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0


def test_a_missing_setting_stops_start_up_with_one_clear_line(tmp_path: Path) -> None:
    result = run_cli("run", env=leeway_env(SLACK_SIGNING_SECRET="x" * 16), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "leeway: SLACK_BOT_TOKEN is missing: set SLACK_BOT_TOKEN to the app's Bot User OAuth Token "
        "(xoxb-…, under OAuth & Permissions)."
    ]


def test_an_invalid_setting_says_what_to_fix(tmp_path: Path) -> None:
    result = run_cli(
        "run", env=leeway_env(SLACK_BOT_TOKEN="xoxp-user-token", SLACK_SIGNING_SECRET="x" * 16), cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("leeway: SLACK_BOT_TOKEN is invalid (Value error, must start with xoxb-)")


def test_a_bad_policy_file_names_the_key_and_line(slack: StandInSlack, tmp_path: Path) -> None:
    (tmp_path / "policy.yml").write_text(TEAM_POLICY.replace("peer_up_to: 150", "peer_up_to: 15"))
    env = leeway_env(
        SLACK_BOT_TOKEN="xoxb-x",
        SLACK_SIGNING_SECRET="x" * 16,
        SLACK_API_URL=slack.url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
    )
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "policy.yml line 10: remedies[0].peer_up_to: limits must rise tier by tier" in result.stderr
    missing = run_cli("run", env={**env, "LEEWAY_POLICY": "nowhere.yml"}, cwd=tmp_path)
    assert "No policy file at nowhere.yml" in missing.stderr
    assert run_cli("check-policy", str(tmp_path / "policy.yml"), env=env, cwd=tmp_path).returncode == 2


def test_slack_rejecting_the_token_stops_start_up(slack: StandInSlack, tmp_path: Path) -> None:
    (tmp_path / "policy.yml").write_text(TEAM_POLICY)
    slack.reset()
    slack.fail_next("auth.test", "invalid_auth")
    env = leeway_env(
        SLACK_BOT_TOKEN="xoxb-revoked",
        SLACK_SIGNING_SECRET="x" * 16,
        SLACK_API_URL=slack.url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
    )
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in result.stderr
    slack.reset()


def test_the_demo_shows_leeway_at_work_without_a_workspace(tmp_path: Path) -> None:
    result = run_cli("demo", env=leeway_env(), cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for seen in (
        "Granted — go ahead",
        "@ben reacts ✅",
        "@ben agreed",
        "is closed. Nothing more is needed here",
        "wasn't agreed this time",
        "outside Leeway's policy",
        "Raise what an agent may grant alone from $50 to $90?",
        "*Refund* up to $90 is now yours to decide alone",
        "*Refund: $85* for case *#4716* is within your own authority",
        "7 decisions recorded",
        "201 · status granted · tier customer",
        "*Waive a late fee: $8* granted for case *#4720*, self-served by the customer in acme-shop",
        "🙋 Ada Lovelace (customer cus_42) asked in acme-shop for *Waive a late fee: $18*",
        "@ana took up the customer's request for *Waive a late fee: $18*",
        "Welcome to Leeway, @ana!",
        "Tell the customer:* The refund goes back to the original payment method",
        "The team granted 1 of these in the last 30 days, for $30; this one is $90.",
    ):
        assert seen in out, seen
    assert "agreed by @ben instantly" in out
    assert "in instantly" not in out
    assert list(tmp_path.iterdir()) == []  # the demo leaves nothing behind


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LOG_LEVEL", "verbose", "LOG_LEVEL is invalid"),
        ("DATABASE_URL", "mysql://u:p@h/db", "Leeway runs on SQLite or PostgreSQL, not mysql"),
        ("DATABASE_URL", "sqlite://", "SQLite needs a file"),
    ],
)
def test_settings_leeway_cannot_use_are_one_line(tmp_path: Path, name: str, value: str, says: str) -> None:
    env = leeway_env(SLACK_BOT_TOKEN="xoxb-x", SLACK_SIGNING_SECRET="x" * 16, **{name: value})
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("leeway: ")
    assert says in line


def test_migrate_against_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = leeway_env(
        SLACK_BOT_TOKEN="xoxb-x",
        SLACK_SIGNING_SECRET="x" * 16,
        DATABASE_URL="postgresql://nobody:nothing@127.0.0.1:1/none",
    )
    result = run_cli("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("leeway: Can't migrate the database at DATABASE_URL (OperationalError")


def start_process(
    slack: StandInSlack, database_url: str, cwd: Path, *, policy: str = PROCESS_POLICY, **extra: str
) -> tuple[subprocess.Popen[str], SlackDriver, str]:
    (cwd / "policy.yml").write_text(policy)
    port = free_port()
    env = leeway_env(
        SLACK_BOT_TOKEN="xoxb-process",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.url,
        DATABASE_URL=database_url,
        LEEWAY_POLICY="policy.yml",
        PORT=str(port),
        HOST="127.0.0.1",
        # The workers' metrics directory goes here: a bot killed outright leaves it behind.
        TMPDIR=str(cwd),
        **extra,
    )
    process = subprocess.Popen(
        [sys.executable, *RUN_COMMAND], env=env, cwd=cwd, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    wait_healthy(f"{base}/healthz", process)
    return process, SlackDriver(f"{base}/slack/events", SECRET, api=slack), base


def stop_all(*processes: subprocess.Popen[str] | None) -> None:
    """Stop the bots a test started, as an operator would (SIGTERM), whatever state they're in."""
    for process in processes:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)


def outbox_status(engine: Engine, kind: str) -> str | None:

    with engine.connect() as connection:
        return connection.execute(text("SELECT status FROM outbox_message WHERE kind = :kind"), {"kind": kind}).scalar()


def test_kill_9_between_the_grant_and_the_posts_loses_nothing(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    first, driver, _ = start_process(slack, database_url, tmp_path, OUTBOX_LEASE_SECONDS="1")
    second = None
    try:
        in_flight = slack.hold_next("chat.postMessage", channel="C0DEC")  # Slack is slow to answer
        assert "Granted" in driver.command("U0ANA", "refund 20 #4711 parcel broken").json["text"]
        assert in_flight.arrived.wait(10)  # the decision post has reached Slack, unanswered
        first.kill()  # kill -9 mid-call: no cleanup, no goodbye
        first.wait(timeout=10)
        # Owed and never attempted (claimed, perhaps, in the same batch as the decision).
        assert slack.calls_to("chat.postMessage", channel="C0KUD") == []
        assert outbox_status(engine, "kudos") in ("pending", "sending")
        in_flight.release()  # Slack does take the decision the dead process sent; the answer is lost

        second, _, _ = start_process(slack, database_url, tmp_path, OUTBOX_LEASE_SECONDS="1")
        slack.wait_for("chat.postMessage", channel="C0KUD", timeout=15)
        try:
            slack.wait_for("chat.postMessage", channel="C0DEC", count=2, timeout=15)
        except AssertionError as error:
            with engine.connect() as connection:
                rows = connection.execute(
                    sql("SELECT kind, status, attempts, claimed_until, next_attempt_at, last_error FROM outbox_message")
                ).all()
            raise AssertionError(f"{error}\noutbox: {rows}") from None
        time.sleep(1.5)  # long enough for a wrong third post to show up; the claims last 1 s
        assert len(slack.calls_to("chat.postMessage", channel="C0KUD")) == 1  # exactly once
        # The post whose answer was lost repeats at most once (the window README.md documents).
        assert len(slack.calls_to("chat.postMessage", channel="C0DEC")) == 2
        assert outbox_status(engine, "decision") == "sent"
        assert outbox_status(engine, "kudos") == "sent"
    finally:
        stop_all(first, second)
        wipe(engine)
        slack.reset()


def test_kill_9_before_any_post_delivers_each_post_exactly_once(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    slack.fail_next("chat.postMessage", "internal_error", times=2)  # so the grant's posts are still owed
    first, driver, _ = start_process(slack, database_url, tmp_path, OUTBOX_LEASE_SECONDS="1")
    second = None
    try:
        assert "Granted" in driver.command("U0ANA", "refund 20 #4711 parcel broken").json["text"]
        slack.wait_for("chat.postMessage", count=2, timeout=10)  # both failed: retried in 2 s
        first.kill()
        first.wait(timeout=10)
        second, _, _ = start_process(slack, database_url, tmp_path, OUTBOX_LEASE_SECONDS="1")
        slack.wait_for("chat.postMessage", channel="C0DEC", count=2, timeout=15)
        slack.wait_for("chat.postMessage", channel="C0KUD", count=2, timeout=15)
        time.sleep(1.5)  # long enough for a wrong extra post to show up
        delivered = [c for c in slack.calls_to("chat.postMessage") if c.ok]
        assert sorted(c.args["channel"] for c in delivered) == ["C0DEC", "C0KUD"]  # each once
    finally:
        stop_all(first, second)
        wipe(engine)
        slack.reset()


def test_two_instances_serve_one_workspace_and_act_once(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, driver_a, _ = start_process(slack, database_url, tmp_path / "a")
    b, driver_b, _ = start_process(slack, database_url, tmp_path / "b")
    try:
        drivers = (driver_a, driver_b)
        for i in range(8):  # commands land on either instance
            reply = drivers[i % 2].command("U0ANA", f"refund 80 #{100 + i} lost parcel")
            assert "I've asked" in reply.json["text"]
        requests = slack.wait_for("chat.postMessage", channel="C0REQ", count=8, timeout=15)
        start = threading.Barrier(16)

        def agree(driver: SlackDriver, kind: str, ts: str) -> None:
            start.wait()
            if kind == "react":
                driver.react("U0DAN", "white_check_mark", channel="C0REQ", ts=ts)
            else:
                driver.click_button("U0LEE", channel="C0REQ", ts=ts, action_id="approve")

        # Every request gets a ✅ through one instance and an Approve through the other, at once.
        threads = [
            threading.Thread(target=agree, args=(drivers[i % 2], "react", r.response["ts"]))
            for i, r in enumerate(requests)
        ]
        threads += [
            threading.Thread(target=agree, args=(drivers[(i + 1) % 2], "click", r.response["ts"]))
            for i, r in enumerate(requests)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        slack.wait_for("chat.postMessage", channel="C0DEC", count=8, timeout=20)
        slack.wait_for("chat.postMessage", channel="C0KUD", count=8, timeout=20)
        time.sleep(1.0)  # room for a wrong extra post to arrive
        for channel in ("C0REQ", "C0DEC", "C0KUD"):
            posts = [c.args["text"] for c in slack.calls_to("chat.postMessage", channel=channel) if c.ok]
            assert len(posts) == len(set(posts)) == 8, channel  # each post once
        with engine.connect() as connection:
            granted = connection.execute(sql("SELECT count(*) FROM proposal WHERE status = 'granted'")).scalar()
            approvals = connection.execute(sql("SELECT count(*) FROM approval")).scalar()
        assert granted == approvals == 8  # each grant once
    finally:
        stop_all(a, b)
        wipe(engine)
        slack.reset()


def test_two_instances_run_each_scheduled_job_once(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    # Re-routing every second and expiry after 10 s, with both instances looking every second.
    # (Posts are paced at one a second per channel, so the pings need that long to show; and each
    # instance's start-up jobs share the machine's cores with the passes for the first seconds.)
    policy = PROCESS_POLICY + "reroute_after: 1s\nexpire_after: 10s\n"
    processes = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            processes.append(
                start_process(slack, database_url, tmp_path / name, policy=policy, SCHEDULE_INTERVAL_SECONDS="1")
            )
        for i in range(2):
            processes[i % 2][1].command("U0ANA", f"refund 80 #{200 + i} waiting")
        slack.wait_for("chat.postMessage", channel="U0ANA", count=2, timeout=30)  # two expiry notes
        time.sleep(2.0)  # both instances keep looking: nothing more may happen
        pings = [
            (c.args["thread_ts"], c.args["text"].split(">")[0])
            for c in slack.calls_to("chat.postMessage", channel="C0REQ")
            if c.args.get("thread_ts")
        ]
        assert pings
        assert len(pings) == len(set(pings))
        assert len(slack.calls_to("chat.postMessage", channel="U0ANA")) == 2  # each expired once
        with engine.connect() as connection:
            assert connection.execute(sql("SELECT count(*) FROM proposal WHERE status = 'expired'")).scalar() == 2
    finally:
        stop_all(*(process for process, _, _ in processes))
        wipe(engine)
        slack.reset()


def test_json_logs_are_one_object_a_line(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    process, driver, _ = start_process(slack, database_url, tmp_path, LOG_FORMAT="json")
    try:
        driver.command("U0ANA", "refund 20 #1 x")
        slack.wait_for("chat.postMessage", channel="C0KUD", timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=20)
        wipe(engine)
        slack.reset()
    lines = [line for line in log.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any("sent kudos" in r["message"] for r in records)
    assert any(r["logger"].startswith("uvicorn") for r in records)


# --- several worker processes on one port (WEB_CONCURRENCY) -------------------------------------


def workers_of(process: subprocess.Popen[str]) -> list[int]:
    """The worker processes uvicorn's supervisor started (Linux's /proc)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    if not children.exists():
        pytest.skip("needs Linux's /proc to see the worker processes")
    pids = [int(pid) for pid in children.read_text().split()]
    return [pid for pid in pids if "spawn_main" in _cmdline(pid) and _name(pid) != REPORTS_PROCESS]


def reports_processes_of(*pids: int) -> list[int]:
    """The reports processes (bot.background) the given processes started."""
    found = []
    for pid in pids:
        for thread in Path(f"/proc/{pid}/task").glob("*"):  # whichever thread started it
            try:
                children = (thread / "children").read_text().split()
            except OSError:
                continue  # already gone
            found += [int(child) for child in children if _name(int(child)) == REPORTS_PROCESS]
    return found


def wait_for_reports_processes(*pids: int, count: int, timeout: float = 30) -> list[int]:
    """Started at start, beside the sender and the schedule: named once set up."""
    deadline = time.monotonic() + timeout
    while len(found := reports_processes_of(*pids)) < count and time.monotonic() < deadline:
        time.sleep(0.1)  # polling processes we started
    assert len(found) == count, found
    return found


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""  # already gone


def alive(pid: int) -> bool:
    return _cmdline(pid) != ""


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except (OSError, urllib.error.URLError):
        return False


def wait_for_workers(process: subprocess.Popen[str], count: int, timeout: float = 30) -> list[int]:
    """The worker processes, once the supervisor has started them all (the first to serve makes
    /healthz answer, maybe before the others run)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = workers_of(process)
        if len(pids) == count:
            return pids
        time.sleep(0.1)  # polling processes we started
    raise AssertionError(f"expected {count} workers, found {workers_of(process)}")


class CapturingDriver(SlackDriver):
    """Builds a request as Slack would send it, and keeps it instead of sending it."""

    captured: tuple[bytes, str] = (b"", "")

    def post(self, body: bytes, content_type: str, **_: object) -> Reply:
        self.captured = (body, content_type)
        return Reply(status=0, body="", headers={})


@dataclass
class InFlight:
    """A slash command sent all but its last bytes: a request in flight, waiting on the network."""

    connection: socket.socket
    rest: bytes

    def finish(self) -> str:
        """Send the rest; the bot's whole answer."""
        self.connection.sendall(self.rest)
        answer = b""
        while chunk := self.connection.recv(65536):
            answer += chunk
        self.connection.close()
        return answer.decode()


def begin_command(slack: StandInSlack, port: int, user: str, text: str) -> InFlight:
    capture = CapturingDriver(f"http://127.0.0.1:{port}/slack/events", SECRET, api=slack)
    capture.command(user, text)
    body, content_type = capture.captured
    now = int(time.time())
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nX-Slack-Request-Timestamp: {now}\r\n"
        f"X-Slack-Signature: {sign(SECRET, now, body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    connection.sendall(head + body[:-8])
    return InFlight(connection, body[-8:])


def commands_at_once(driver: SlackDriver, *, senders: int, each: int) -> list[str]:
    """`senders` threads, each sending `each` proposals within the agent's own authority; the replies."""
    replies: list[str] = []

    def send(sender: int) -> None:
        for i in range(each):
            replies.append(driver.command("U0ANA", f"refund 20 #{sender * 100 + i} parcel broken").json["text"])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies


def count_rows(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def test_one_worker_is_todays_single_process(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    process, driver, _ = start_process(slack, database_url, tmp_path, WEB_CONCURRENCY="1")
    try:
        assert "Granted" in driver.command("U0ANA", "refund 20 #1 x").json["text"]
        (reports,) = wait_for_reports_processes(process.pid, count=1)  # it reads usage reports beside it
        assert workers_of(process) == []  # and serves Slack itself
    finally:
        stop_all(process)
        wipe(engine)
        slack.reset()
    assert process.returncode == 0
    assert not alive(reports)  # stopped with it


def test_two_workers_share_the_port_and_sigterm_stops_both_gracefully(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    process, driver, base = start_process(slack, database_url, tmp_path / "a", WEB_CONCURRENCY="2", LOG_FORMAT="json")
    second = None
    try:
        workers = wait_for_workers(process, 2)
        reports = wait_for_reports_processes(*workers, count=2)  # one each; none for the supervisor
        assert reports_processes_of(process.pid) == []
        port = int(base.rsplit(":", 1)[1])
        # Commands at once from several senders: each is granted, and recorded, whichever
        # worker takes it (on SQLite, two processes writing to one file).
        replies = commands_at_once(driver, senders=6, each=3)
        assert len(replies) == 18
        assert all("Granted" in reply for reply in replies)
        assert count_rows(engine, "SELECT count(*) FROM proposal WHERE status = 'granted'") == 18

        in_flight = begin_command(slack, port, "U0ANA", "refund 30 #99 sent as the bot stops")
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while answers(f"{base}/healthz") and time.monotonic() < deadline:
            time.sleep(0.1)  # until the workers take no new requests: they are stopping
        assert not answers(f"{base}/healthz")
        answer = in_flight.finish()
        assert answer.startswith("HTTP/1.1 200")
        assert "Granted" in answer
        _, log = process.communicate(timeout=30)
        assert process.returncode == 0
        assert not any(alive(pid) for pid in workers + reports)  # both stopped with it, and their reports processes
        records = [json.loads(line) for line in log.splitlines() if line.strip()]  # JSON, workers' lines too
        started = {r["message"] for r in records if r["message"].startswith("Started server process")}
        assert len(started) == 2, started
        # Each worker stopped its own schedule (and sender) once it had answered its last request.
        assert sum("Scheduler has been shut down" in r["message"] for r in records) == 2

        # Nothing granted is lost: what the first left owed, the next delivers, each once.
        assert count_rows(engine, "SELECT count(*) FROM proposal WHERE status = 'granted'") == 19
        assert count_rows(engine, "SELECT count(*) FROM outbox_message") == 2 * 19
        second, _, _ = start_process(slack, database_url, tmp_path / "b", WEB_CONCURRENCY="2")
        for channel in ("C0DEC", "C0KUD"):
            slack.wait_for("chat.postMessage", channel=channel, count=19, timeout=60)
        time.sleep(1.5)  # room for a wrong extra post to arrive
        for channel in ("C0DEC", "C0KUD"):
            posts = [c.args["text"] for c in slack.calls_to("chat.postMessage", channel=channel) if c.ok]
            assert len(posts) == len(set(posts)) == 19, channel
    finally:
        stop_all(process, second)
        wipe(engine)
        slack.reset()


def test_kill_9_takes_the_workers_with_it(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    process, _, base = start_process(slack, database_url, tmp_path, WEB_CONCURRENCY="2")
    try:
        workers = wait_for_workers(process, 2)
        workers += wait_for_reports_processes(*workers, count=2)
        process.kill()
        process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in workers)  # no worker left serving, or sending, on its own
        assert not answers(f"{base}/healthz")
    finally:
        stop_all(process)
        wipe(engine)
        slack.reset()


def test_with_two_workers_metrics_add_up_every_worker(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    metrics_port = free_port()
    token = "metrics-token-for-two-workers"
    process, driver, base = start_process(
        slack, database_url, tmp_path, WEB_CONCURRENCY="2", METRICS_PORT=str(metrics_port), METRICS_TOKEN=token
    )
    try:
        wait_for_workers(process, 2)
        assert all("Granted" in reply for reply in commands_at_once(driver, senders=4, each=3))
        granted = 'leeway_proposals_total{outcome="granted",tier="alone"} 12.0'
        for url, headers in (
            (f"http://127.0.0.1:{metrics_port}/metrics", {}),  # served by the supervisor
            (f"{base}/metrics", {"Authorization": f"Bearer {token}"}),  # by whichever worker is asked
        ):
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
                text = response.read().decode()
            assert granted in text, text
            assert text.count("# TYPE leeway_outbox_backlog gauge") == 1  # one figure for the database
    finally:
        stop_all(process)
        wipe(engine)
        slack.reset()
    assert process.returncode == 0


def refusing_worker() -> None:
    """A worker app that cannot be made (as when Slack stops answering between the checks and a
    worker's start)."""
    sys.exit(STARTUP_FAILURE)


def test_a_worker_that_cannot_start_stops_them_all() -> None:
    port = free_port()
    script = (
        "import sys; from bot.web import serve_workers; "
        f"sys.exit(0 if serve_workers('tests.e2e.test_process:refusing_worker', workers=2, host='127.0.0.1', "
        f"port={port}, log_level='warning') else 3)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=leeway_env(), cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3, result.stderr
