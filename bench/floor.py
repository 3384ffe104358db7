"""The floor: a bare Bolt app that only acknowledges /remedy, served exactly as Leeway is
(uvicorn, Bolt's ASGI adapter dispatching in worker threads, behind Leeway's ASGI edge),
so the difference is Leeway's own work. `python bench/floor.py PORT SIGNING_SECRET SLACK_API_URL`"""

from __future__ import annotations

import sys

import uvicorn
from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.web import LeewayASGI


def main() -> None:
    port, secret, api_url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    app = App(client=WebClient(token="xoxb-floor", base_url=api_url), signing_secret=secret,
              token_verification_enabled=False, process_before_response=True)

    @app.command("/remedy")
    def only_ack(ack: Ack) -> None:
        ack()

    edge = LeewayASGI(app, lambda: (200, {"status": "ok"}), secret)
    uvicorn.run(edge, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


if __name__ == "__main__":
    main()
