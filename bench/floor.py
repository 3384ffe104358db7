"""The floor: a bare Bolt app that only acknowledges /remedy, on the fastest plain Python stack.

    python bench/floor.py PORT SIGNING_SECRET SLACK_API_URL

Bolt's own ASGI adapter on uvicorn (with httptools and uvloop), dispatching on the event loop: no
threads, no database, nothing but Bolt's signature check, parsing and ack. It is bound by the CPU,
so Leeway's figures read against it mean the same on a fast machine and a slow one (a floor bound
by its server's own latency would flatter the one and damn the other)."""

from __future__ import annotations

import sys

import uvicorn
from slack_bolt import Ack, App
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_sdk import WebClient


def main() -> None:
    port, secret, api_url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    client = WebClient(token="xoxb-floor", base_url=api_url)
    # process_before_response: the ack is the answer, with no thread pool and no ack-polling loop.
    app = App(client=client, signing_secret=secret, token_verification_enabled=False, process_before_response=True)
    app.command("/remedy")(only_ack)
    uvicorn.run(
        SlackRequestHandler(app),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http="httptools",
        loop="uvloop",
    )


def only_ack(ack: Ack) -> None:
    ack()


if __name__ == "__main__":
    main()
