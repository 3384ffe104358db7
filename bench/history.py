"""Leeway against a year of history, measured from outside: the bot as a user starts it
(`python -m bot run`), against the stand-in Slack, on a database seeded with 365 days of
proposals. Prints one line per figure, beside its goal; asserts nothing.

    python bench/history.py [--database sqlite|postgresql|both] [--proposals 1000000 | --sizes 10000,100000]
                            [--concurrency 8] [--duration 10]

The history (bench/history_seed.py) goes in through Leeway's own migrations, then bulk SQL:
500 agents and 20 leads, a year of proposals, every row a real grant writes. The later migrations
run over it, as over a production database; a table still empty afterwards is named.

PostgreSQL comes from LEEWAY_BENCH_POSTGRES_URL or LEEWAY_TEST_POSTGRES_URL (a database it may
reset). Load comes from wrk, as in bench/run.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.history_seed import (  # noqa: E402
    AGENTS,
    DUE,
    LEADS,
    ROLLED_UP_BY_THE_BOT,
    database_size,
    make_due,
    note,
    outbox_rows,
    seed,
    still_empty,
)
from bench.run import (  # noqa: E402
    SECRET,
    bot_environment,
    free_port,
    percentile,
    reset_database,
    wait_until_up,
    write_bodies,
    wrk,
)
from bot.background import NAME as REPORTS  # noqa: E402
from bot.standin import ApiCall, SlackDriver, StandInSlack  # noqa: E402

LEAD = LEADS[0]
REPLY_TIMEOUT = 900.0  # seconds to wait for a report before calling it lost
WRK_TIMEOUT = 60  # seconds before wrk gives up on one request


def figure(line: str) -> None:
    print(line, flush=True)


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


# --- the bot, as a user starts it ------------------------------------------------------------


def policy(digest_at: datetime) -> str:
    return f"""\
currency: USD
timezone: UTC
digest: {{day: {digest_at.strftime("%a").lower()}, at: "{digest_at.strftime("%H:%M")}"}}
channels: {{requests: C0REQ, decisions: C0DEC, kudos: C0KUD}}
people:
  agents: [{", ".join(AGENTS)}]
  leads: [{", ".join(LEADS)}]
remedies:
  - {{id: refund, label: Refund, alone_up_to: 50, peer_up_to: 150, lead_up_to: 500}}
  - {{id: goodwill, label: Goodwill credit, alone_up_to: 50, peer_up_to: 150, lead_up_to: 500}}
  - {{id: extension, label: Extend a subscription, unit: days, alone_up_to: 7, peer_up_to: 30, lead_up_to: 90}}
"""


@dataclass
class Running:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def memory_mib(self) -> dict[int, tuple[float, float]]:
        """VmRSS now and VmHWM (the peak), in MiB, of each of the bot's processes: with
        WEB_CONCURRENCY the workers that serve Slack are children of the one started."""
        found = {}
        for pid in process_tree(self.process.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:  # gone meanwhile
                continue
            kib = {k: int(v.split()[0]) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(.*)$", status, re.MULTILINE)}
            if kib:
                found[pid] = (kib["VmRSS"] / 1024, kib["VmHWM"] / 1024)
        return found

    def has_job(self, name: str) -> bool:
        return f'Added job "{name}"' in self.log.read_text(errors="replace")

    def job_seconds(self, name: str, trigger: str = "interval", timeout: float = REPLY_TIMEOUT) -> float | None:
        """How long the scheduler's first run of a job took, from the bot's log (APScheduler
        logs when it starts a job and when the job ends)."""
        line = re.compile(
            rf'^(\S+ \S+) INFO apscheduler\.executors\.default: (Running job|Job) "{name} \(trigger: {trigger}'
            r".*?(executed successfully|raised an exception)?$",
            re.MULTILINE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = line.findall(self.log.read_text(errors="replace"))
            starts = [at for at, what, _ in found if what == "Running job"]
            ends = [(at, how) for at, what, how in found if what == "Job"]
            if starts and ends:
                if ends[0][1] != "executed successfully":
                    note(f"{name} raised an exception: see {self.log}")
                return (logged_at(ends[0][0]) - logged_at(starts[0])).total_seconds()
            time.sleep(0.05)
        return None

    def count_in_log(self, words: str) -> int:
        return self.log.read_text(errors="replace").count(words)


def process_tree(root: int) -> list[int]:
    """`root` and every process descended from it, from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree


def logged_at(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")


@contextmanager
def leeway(api: StandInSlack, url: str, workdir: Path, digest_at: datetime, name: str) -> Iterator[Running]:
    (workdir / "policy.yml").write_text(policy(digest_at))
    port, log = free_port(), workdir / f"{name}.log"
    env = bot_environment(api, url, port, log_level="INFO")  # the scheduler's lines time its jobs
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process, timeout=300)
        yield Running(f"http://127.0.0.1:{port}", process, log)
    finally:
        if process.poll() is None:  # a report still running in the bot holds its exit: wait a little
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def next_call(
    api: StandInSlack, method: str, before: int, timeout: float, give_up: threading.Event | None = None, **match: str
) -> ApiCall | None:
    """The first call to `method` after the `before` already made; None if none came in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (give_up and give_up.is_set()):
        calls = api.calls_to(method, **match)
        if len(calls) > before:
            return calls[before]
        time.sleep(0.005)
    return None


def report(
    api: StandInSlack, driver: SlackDriver, command: str, give_up: threading.Event | None = None
) -> tuple[float | None, float | None]:
    """Seconds to the ack, and to the reply the lead sees: the response_url post after an ack
    that says the report is coming, or else the ack itself. None: no answer in time."""
    before = len(api.calls_to("response_url"))
    started = time.monotonic()
    try:
        ack = driver.command(LEAD, command, channel="C0GEN").json
    except OSError:  # the driver's own timeout: Slack would have given up long before
        return None, None
    acked = time.monotonic() - started
    if not str(ack.get("text", "")).startswith(":hourglass:"):
        return acked, acked
    call = next_call(api, "response_url", before, REPLY_TIMEOUT, give_up)
    return acked, None if call is None else call.at - started


def home(api: StandInSlack, driver: SlackDriver) -> float | None:
    """From app_home_opened to the stand-in receiving views.publish for that lead."""
    before = len(api.calls_to("views.publish", user_id=LEAD))
    started = time.monotonic()
    driver.event({"type": "app_home_opened", "user": LEAD, "channel": "D0LEAD", "tab": "home"})
    call = next_call(api, "views.publish", before, REPLY_TIMEOUT, user_id=LEAD)
    return None if call is None else call.at - started


def seconds(value: float | None) -> str:
    if value is None:
        return "no answer"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def under(value: float | None, limit: float) -> str:
    return met(value is not None and value < limit)


# --- one database at one size ----------------------------------------------------------------


def measure(api: StandInSlack, url: str, workdir: Path, args: argparse.Namespace, label: str) -> None:
    now = datetime.now(UTC)
    seeded = seed(url, args.proposals, now)
    figure(f"{label}: {seeded} · database {database_size(url) / 2**20:,.0f} MiB on disk")
    # When the digest last fell due: too long ago to catch up on, or just before the bot starts.
    quiet, due = now - timedelta(days=3), now - timedelta(minutes=2)
    api.reset()
    with leeway(api, url, workdir, quiet, "interactive") as bot:
        interactive(api, bot, url, workdir, args, label)
    api.reset()
    with leeway(api, url, workdir, due, "digest") as bot:
        digest(api, bot, label)
    make_due(url, datetime.now(UTC))
    held, old = outbox_rows(url, datetime.now(UTC) - timedelta(days=30))
    api.reset()
    with leeway(api, url, workdir, quiet, "reroute") as bot:
        note(f"a re-route pass over {DUE} due requests")
        took = bot.job_seconds("requests_due")
        moved = re.findall(r"re-routed (\d+)", bot.log.read_text(errors="replace"))
        figure(
            f"{label}: a re-route pass over {DUE} due requests (the requests_due job, from the bot's log): "
            f"{seconds(took)}, {moved[0] if moved else 0} re-routed · goal under 1 s: {under(took, 1)}"
        )
        forgetting = bot.job_seconds("forget_delivered")
        left, _ = outbox_rows(url, datetime.now(UTC))
        figure(
            f"{label}: forgetting delivered messages, the first run of the forget_delivered job (from the bot's "
            f"log; each worker's batches of 200, 0.2 s apart): {seconds(forgetting)}, {held - left:,} forgotten "
            f"· the outbox held {held:,} messages, {old:,} of them delivered more than 30 days ago"
        )


def interactive(api: StandInSlack, bot: Running, url: str, workdir: Path, args: argparse.Namespace, label: str) -> None:
    """Reports, a Home, and proposals under load, against the bot's memory before and after."""
    for job in ("requests_due", "weekly"):
        bot.job_seconds(job)  # the runs at start are over: idle is idle
    if bot.has_job("usage_rollup"):  # the first run rolls up the whole seeded year: measured after it
        note("the usage roll-up at start")
        took = bot.job_seconds("usage_rollup")
        empty = still_empty(url, ROLLED_UP_BY_THE_BOT)
        figure(
            f"{label}: the usage roll-up at start, over all of the history (from the bot's log): {seconds(took)}"
            + (f" · NOTE: still empty after it: {', '.join(empty)}" if empty else "")
        )
    idle = bot.memory_mib()
    driver = SlackDriver(f"{bot.base}/slack/events", SECRET, api=api)
    for command in ("usage 30d", "usage 365d", "review"):
        note(f"/remedy {command}")
        acked, replied = report(api, driver, command)
        figure(
            f"{label}: /remedy {command}: ack {seconds(acked)} · the reply the lead sees {seconds(replied)}"
            f" · goal under 1 s: {under(replied, 1)}"
        )
    note("a lead's Home")
    opened = home(api, driver)
    figure(
        f"{label}: a lead's Home, app_home_opened → views.publish {seconds(opened)} · goal under 1 s: "
        f"{under(opened, 1)}"
    )
    figure(f"{label}: memory, after the reports and the Home: {memory(idle, bot.memory_mib())}")

    def load(text: str, duration: int = args.duration) -> dict[str, float]:
        bodies = workdir / "bodies.txt"  # written just before, so every signature is fresh
        write_bodies(bodies, max(20_000, duration * 3_000), text)
        run = wrk(
            f"{bot.base}/slack/events", bodies, concurrency=args.concurrency, duration=duration, timeout=WRK_TIMEOUT
        )
        settle(driver)
        return run

    load("refund 10 #W{i} warm-up", duration=2)
    note("alone-tier proposals")
    alone = load("refund 10 #A{i} parcel broken")
    note("peer-tier proposals")
    peer = load("refund 100 #P{i} needs a peer")
    for tier, run in (("alone", alone), ("peer", peer)):
        figure(f"{label}: {tier}-tier proposals, {args.concurrency} senders: {rate_and_tail(run)}")
    figure(
        f"{label}: peer-tier throughput {peer['per_second'] / alone['per_second']:.0%} of alone-tier's · goal "
        f"within 2×: {met(peer['per_second'] * 2 >= alone['per_second'])}"
    )
    note("alone-tier proposals while a lead runs /remedy usage 365d")
    during, reports = during_reports(api, bot, lambda: load("refund 10 #R{i} during a report"))
    ratio = during["p99_ms"] / alone["p99_ms"] if during["requests"] and alone["requests"] else None
    locked = bot.count_in_log("database is locked")
    figure(
        f"{label}: alone-tier acks while a lead runs usage 365d back to back ({reports}): {rate_and_tail(during)}"
        f" · p99 {'—' if ratio is None else f'{ratio:.1f}×'} without · 'database is locked' in the log {locked} "
        f"times · goal within 2×, never locked: {met(ratio is not None and ratio <= 2 and locked == 0)}"
    )
    figure(
        f"{label}: memory, after the proposals and the year's reports under load too: {memory(idle, bot.memory_mib())}"
    )


def memory(idle: dict[int, tuple[float, float]], now: dict[int, tuple[float, float]]) -> str:
    """Each process's memory after start (VmRSS) and its peak since (VmHWM), and the goal."""
    pids = list(idle)  # the process started first, then its workers
    growth = max((now[p][1] - idle[p][0] for p in pids if p in now), default=0.0)
    names = ["the process started", *_names(pids[1:])]
    each = " · ".join(
        f"{name} {idle[p][0]:,.0f} → peak {now.get(p, idle[p])[1]:,.0f} MiB"
        for name, p in zip(names, pids, strict=True)
    )
    return f"{each} · goal every peak within 50 MiB of its idle: {met(growth <= 50)} (at most +{growth:,.0f} MiB)"


def _names(pids: list[int]) -> Iterator[str]:
    """What each of the bot's other processes is: a worker, a reports process, or
    multiprocessing's resource tracker, numbered in the order found."""
    counts: dict[str, int] = {}
    for pid in pids:
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            comm, cmdline = "", b""
        tracker = b"resource_tracker" in cmdline
        kind = "reports process" if comm == REPORTS else "resource tracker" if tracker else "worker"
        counts[kind] = counts.get(kind, 0) + 1
        yield f"{kind} {counts[kind]}"


def rate_and_tail(run: dict[str, float]) -> str:
    tail = f"ack p99 {run['p99_ms']:.0f} ms" if run["requests"] else "none answered within the run"
    return f"{run['per_second']:.1f}/s · {tail} · errors {run['errors']:.0f} · non-200 {run['non200']:.0f}"


def settle(driver: SlackDriver, timeout: float = 600) -> None:
    """Wait until the bot answers again: what a run left queued inside it is done before the next."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            driver.command(AGENTS[0], f"refund 10 #S{time.monotonic_ns()} settling", channel="C0GEN")
            return
        except OSError:  # still busy with what the last run left: ask again
            continue


def digests_posted(api: StandInSlack) -> int:
    return sum("weekly Leeway digest" in str(c.args.get("text")) for c in api.calls_to("chat.postMessage"))


def digest(api: StandInSlack, bot: Running, label: str) -> None:
    """The weekly job, caught up at start: the policy's digest fell due minutes before."""
    note("the weekly digest")
    took = bot.job_seconds("weekly")
    deadline = time.monotonic() + 30
    while digests_posted(api) < len(LEADS) and time.monotonic() < deadline:
        time.sleep(0.05)
    figure(
        f"{label}: the weekly digest job (from the bot's log: the job's start and end): {seconds(took)} · "
        f"{digests_posted(api)} of {len(LEADS)} digests posted"
    )


def during_reports(
    api: StandInSlack, bot: Running, load: Callable[[], dict[str, float]]
) -> tuple[dict[str, float], str]:
    """`load`, run while a lead asks for a year's usage again each time the last one is answered."""
    driver = SlackDriver(f"{bot.base}/slack/events", SECRET, api=api)
    done = threading.Event()
    took: list[float] = []

    def lead() -> None:
        while not done.is_set():
            _, replied = report(api, driver, "usage 365d", give_up=done)
            if replied is not None and not done.is_set():
                took.append(replied)

    asking = threading.Thread(target=lead, daemon=True)
    asking.start()
    time.sleep(0.2)  # the first report is under way
    try:
        figures = load()
    finally:
        done.set()
        asking.join(timeout=15)
    finished = f"{len(took)} finished within the run" + (
        f", p99 {seconds(percentile(took, 0.99))}" if took else ", the first still running"
    )
    return figures, finished


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--proposals", type=int, default=1_000_000)
    parser.add_argument("--sizes", help="several sizes, comma-separated (e.g. 10000,100000,1000000)")
    parser.add_argument("--concurrency", type=int, default=8, help="wrk's senders")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("bench: needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    pg_url = os.environ.get("LEEWAY_BENCH_POSTGRES_URL") or os.environ.get("LEEWAY_TEST_POSTGRES_URL")
    if "postgresql" in databases and not pg_url:
        print("bench: PostgreSQL needs LEEWAY_BENCH_POSTGRES_URL (a database it may reset)", file=sys.stderr)
        return 2
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")] if args.sizes else [args.proposals]
    figure(
        f"machine: {os.cpu_count()} cores, {cpu()} · history: 365 days, {len(AGENTS)} agents, {len(LEADS)} leads · "
        f"wrk -c{args.concurrency} -d{args.duration}s"
    )
    figure(
        "goals: every reply under 1 s · memory peak within 50 MiB of idle · ack p99 during a year's report "
        "within 2× of acks without one, and no 'database is locked' · peer-tier throughput within 2× of "
        f"alone-tier · {DUE} due requests re-routed in under a second"
    )
    with tempfile.TemporaryDirectory(prefix="leeway-history-") as tmp, StandInSlack() as api:
        workdir = Path(tmp)
        for size in sizes:
            for database in databases:
                args.proposals = size
                note(f"{database}: seeding {size:,} proposals")
                url = reset_database(pg_url if database == "postgresql" and pg_url else "sqlite", workdir, "history")
                measure(api, url, workdir, args, f"{database} · {size:,}")
    return 0


def cpu() -> str:
    info = Path("/proc/cpuinfo")
    if info.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", info.read_text(), re.MULTILINE)
        if found:
            return found.group(1).strip()
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    sys.exit(main())
