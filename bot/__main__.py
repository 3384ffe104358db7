"""`python -m bot run | demo | migrate | check-policy | integration add | list | revoke`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services.integrations import IntegrationListed
    from bot.settings import Settings
    from bot.web import Lifespan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Leeway: authority to fix it on the spot.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="serve Slack (HTTP on $HOST:$PORT, or Socket Mode with SLACK_APP_TOKEN)")
    sub.add_parser("demo", help="play a short scenario against a built-in stand-in Slack; no workspace needed")
    sub.add_parser("migrate", help="apply database migrations and exit")
    sub.add_parser("healthcheck", help="exit 0 if the bot on $PORT answers /healthz with 200 (for containers)")
    check = sub.add_parser("check-policy", help="validate a policy file and exit")
    check.add_argument("path", type=Path, nargs="?", help="defaults to $LEEWAY_POLICY")
    integration = sub.add_parser("integration", help="the company's systems that may use the API (/api/v1/)")
    what = integration.add_subparsers(dest="action", required=True)
    add = what.add_parser("add", help="create one and print its API token (shown once)")
    add.add_argument("name")
    add.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help="propose (the default) or read; give --scope twice for both",
    )
    what.add_parser("list", help="name, scopes, when created and revoked (never the tokens)")
    revoke = what.add_parser("revoke", help="its token is refused from now on")
    revoke.add_argument("name")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from bot.demo import run_demo

        return int(run_demo())
    if args.command == "check-policy":
        return _check_policy(args.path)
    if args.command == "healthcheck":
        return _healthcheck()
    if args.command == "integration":
        return _integration(args)

    from bot.runtime import StartupError
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"leeway: {error}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level, settings.log_format)
    try:
        if args.command == "migrate":
            return _migrate(settings.database_url)
        return _run(settings)
    except StartupError as error:
        print(f"leeway: {error}", file=sys.stderr)
        return 2


def _run(settings: Settings) -> int:
    from bot.runtime import build
    from bot.web import freeze_startup_heap, make_server

    if settings.slack_app_token is None and settings.web_concurrency > 1:
        return _run_workers(settings)
    leeway = build(settings)
    log = logging.getLogger("leeway")
    # uvicorn shuts down gracefully on SIGTERM/SIGINT and then re-raises the signal; end with a
    # clean exit instead, so the sender, scheduler and metrics server stop in the `finally` below.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_cleanly)
    try:
        leeway.serve_metrics_port()
        freeze_startup_heap()  # before the start's jobs run, so what they leave isn't frozen
        leeway.start_background()
        if settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("Leeway is running in Socket Mode")
            SocketModeHandler(leeway.bolt, settings.slack_app_token.get_secret_value()).start()  # type: ignore[no-untyped-call]
        else:
            log.info("Leeway is listening on http://%s:%s/slack/events", settings.host, settings.port)
            make_server(
                leeway.asgi(),
                host=settings.host,
                port=settings.port,
                log_level=settings.log_level,
                keep_logging=settings.log_format == "json",
            ).run()
    finally:
        leeway.close()
    return 0


# What each worker process calls for its app (see worker_app).
WORKER_APP = "bot.__main__:worker_app"


def _run_workers(settings: Settings) -> int:
    """HTTP with several worker processes on one port. Everything a start can fail on (the
    policy, the database, Slack's answer) is tried here first, once, and the migrations are
    applied, so a start-up error is still one line; then each worker builds its own Leeway.
    Those share the work as separate instances do, through the database."""
    from bot.metrics import shared_between_processes
    from bot.runtime import StartupError, build
    from bot.web import serve_workers

    for signum in (signal.SIGTERM, signal.SIGINT):  # until the supervisor takes them over
        signal.signal(signum, _exit_cleanly)
    with shared_between_processes():
        leeway = build(settings)  # serves no Slack requests: it checks, and reads the backlog for metrics
        try:
            leeway.serve_metrics_port()
            logging.getLogger("leeway").info(
                "Leeway is listening on http://%s:%s/slack/events with %d worker processes",
                settings.host,
                settings.port,
                settings.web_concurrency,
            )
            started = serve_workers(
                WORKER_APP,
                workers=settings.web_concurrency,
                host=settings.host,
                port=settings.port,
                log_level=settings.log_level,
                keep_logging=settings.log_format == "json",
            )
        finally:
            leeway.close()
    if not started:
        raise StartupError("A worker process could not start (its log says why); all of them were stopped.")
    return 0


def worker_app() -> Lifespan:
    """A worker process's app, made as the process starts: its own settings, logging and Leeway
    (engine, sender, schedule, Bolt app), started and stopped with the worker."""
    from uvicorn.config import STARTUP_FAILURE

    from bot.background import die_with_parent
    from bot.runtime import StartupError, build
    from bot.settings import SettingsError, load_settings
    from bot.web import Lifespan

    try:
        settings = load_settings()
        _configure_logging(settings.log_level, settings.log_format)
        # The supervisor stops its workers on every way out but being killed outright (kill -9,
        # the out-of-memory killer). Then go as abruptly: to whoever runs it, Leeway is one process.
        die_with_parent()
        leeway = build(settings, apply_migrations=False)  # applied before the workers started
    except (SettingsError, StartupError) as error:
        logging.getLogger("leeway").error("a worker could not start: %s", error)
        sys.exit(STARTUP_FAILURE)
    return Lifespan(leeway.asgi(), start=leeway.start_background, stop=leeway.close)


def _configure_logging(level: str, form: str) -> None:
    handler = logging.StreamHandler()
    if form == "json":  # one JSON object a line, for log collectors
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    if form == "json":  # uvicorn's own loggers, too
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).handlers = [handler]
            logging.getLogger(name).propagate = False


def _exit_cleanly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _migrate(database_url: str) -> int:
    from bot.runtime import StartupError
    from storage import migrate
    from storage.db import make_engine

    try:
        engine = make_engine(database_url)
        migrate.upgrade(engine)
        print(f"leeway: database at revision {migrate.current(engine)}")
        engine.dispose()
    except Exception as error:
        raise StartupError(
            f"Can't migrate the database at DATABASE_URL ({type(error).__name__}: {str(error).splitlines()[0]})"
        ) from None
    return 0


def _integration(args: argparse.Namespace) -> int:
    """Add, list or revoke integrations in the database at DATABASE_URL (migrated first, as `run` does)."""
    from datetime import UTC, datetime

    from bot.core.integrations import IntegrationError, parse_scopes
    from bot.services import integrations
    from bot.settings import SettingsError, load_database_settings
    from storage import migrate
    from storage.db import make_engine, make_sessions

    try:
        settings = load_database_settings()
        scopes = parse_scopes(args.scope) if args.action == "add" else frozenset()
    except (SettingsError, IntegrationError) as error:
        print(f"leeway: {error}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
        sessions, now = make_sessions(engine), datetime.now(UTC)
        if args.action == "add":
            token = integrations.add_integration(sessions, name=args.name, scopes=scopes, now=now)
            print(
                f"leeway: integration {args.name} added ({' '.join(sorted(scopes))}). Its API token, shown only once:"
            )
            print(token)
        elif args.action == "list":
            _print_integrations(integrations.list_integrations(sessions))
        elif integrations.revoke_integration(sessions, name=args.name, now=now):
            print(f"leeway: integration {args.name} revoked: its token is refused from now on.")
        else:
            print(f"leeway: integration {args.name} was revoked already.")
    except IntegrationError as error:
        print(f"leeway: {error}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def _print_integrations(found: list[IntegrationListed]) -> None:
    if not found:
        print("leeway: no integrations yet (`python -m bot integration add <name>`).")
        return
    rows = [("name", "scopes", "created", "revoked")]
    for i in found:
        revoked = f"{i.revoked_at:%Y-%m-%d %H:%M} UTC" if i.revoked_at else "-"
        rows.append((i.name, " ".join(sorted(i.scopes)), f"{i.created_at:%Y-%m-%d %H:%M} UTC", revoked))
    widths = [max(len(row[n]) for row in rows) for n in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _healthcheck() -> int:
    """The container's health check: the same /healthz the load balancer and the tests use."""
    import os
    import urllib.error
    import urllib.request

    url = f"http://127.0.0.1:{os.environ.get('PORT', '3000')}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            print(response.read().decode())
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as error:
        print(f"leeway: {url} answered {error.code}: {error.read().decode()[:500]}", file=sys.stderr)
    except OSError as error:
        print(f"leeway: {url} did not answer ({error})", file=sys.stderr)
    return 1


def _check_policy(path: Path | None) -> int:
    import os

    from bot.core.timing import format_duration
    from bot.policy_file import PolicyError, load_policy, webhook_secrets

    target = path or Path(os.environ.get("LEEWAY_POLICY", "policy.yml"))
    try:
        policy = load_policy(target)
        webhook_secrets(policy, os.environ, source=str(target))
    except PolicyError as error:
        print(f"leeway: {error}", file=sys.stderr)
        return 2
    print(f"leeway: {target} is valid ({len(policy.remedies)} remedies)")
    from bot.policy_check import limits_in_force, read_overrides

    overrides, problem = read_overrides(os.environ.get("DATABASE_URL", "sqlite:///leeway.db"))
    if problem:
        print(f"leeway: {problem}")
    print("limits in force:")
    print("\n".join(limits_in_force(policy, overrides)))
    for remedy in policy.remedies:
        if remedy.tell_customer:
            print(f"  {remedy.id}: tell the customer: {remedy.tell_customer}")
    nudges = format_duration(policy.nudge_after) if policy.nudge_after else "off"
    print(f"  welcome: {'on' if policy.welcome else 'off'} · nudge_after: {nudges}")
    if policy.case_url:
        from bot.core.links import case_url

        print(f"  case_url: cases link to your helpdesk, #4711 to {case_url('#4711', policy.case_url)}")
    for webhook in policy.webhooks:
        print(f"  webhook {webhook.shown}: {', '.join(webhook.events)} (signed with ${webhook.secret_env})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
