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
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy import text as sql

from bot.standin import SlackDriver, StandInSlack
from tests.policies import TEAM_POLICY
from tests.support import REPO, wipe

SECRET = "process-signing-secret"
# What the Dockerfile runs; tests/test_deploy.py holds the image to exactly these.
RUN_COMMAND = ("-m", "bot", "run")
HEALTH_COMMAND = ("-m", "bot", "healthcheck")
# These tests run on the real clock. Put the weekly digest three days ahead, so its catch-up
# (which sends a digest missed in the last day) never adds posts to what they count.
_DIGEST_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(time.gmtime().tm_wday + 3) % 7]
PROCESS_POLICY = TEAM_POLICY + f"digest: {{day: {_DIGEST_DAY}}}\n"


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
        "2 decisions recorded",
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
    # Re-routing every second and expiry after 6 s, with both instances looking every second.
    # (Posts are paced at one a second per channel, so the pings need that long to show.)
    policy = PROCESS_POLICY + "reroute_after: 1s\nexpire_after: 6s\n"
    processes = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            processes.append(
                start_process(slack, database_url, tmp_path / name, policy=policy, SCHEDULE_INTERVAL_SECONDS="1")
            )
        for i in range(2):
            processes[i % 2][1].command("U0ANA", f"refund 80 #{200 + i} waiting")
        slack.wait_for("chat.postMessage", channel="U0ANA", count=2, timeout=20)  # two expiry notes
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
