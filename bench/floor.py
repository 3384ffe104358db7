"""The floor: a bare Bolt app that only acknowledges /remedy.

    python bench/floor.py PORT SIGNING_SECRET SLACK_API_URL THREADS [waitress|leeway-stack]

`waitress` (the floor the targets are read against): a plain synchronous Bolt app with Bolt's
defaults, served by waitress with one thread per concurrent sender, as a team would start one.
`leeway-stack`: the same app on Leeway's own server stack (uvicorn, Bolt's ASGI adapter
dispatching in worker threads, Leeway's ASGI edge), so the gap is Leeway's own work."""

from __future__ import annotations

import logging
import sys

from slack_bolt import Ack, App
from slack_sdk import WebClient


def main() -> None:
    port, secret, api_url, threads = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    server = sys.argv[5] if len(sys.argv) > 5 else "waitress"
    client = WebClient(token="xoxb-floor", base_url=api_url)
    if server == "waitress":
        import waitress
        from slack_bolt.adapter.wsgi import SlackRequestHandler

        app = App(client=client, signing_secret=secret, token_verification_enabled=False)
        app.command("/remedy")(only_ack)
        logging.getLogger("waitress").setLevel(logging.ERROR)  # "task queue depth" lines under load
        waitress.serve(SlackRequestHandler(app), host="127.0.0.1", port=port, threads=threads)
        return
    import uvicorn

    from bot.web import LeewayASGI

    app = App(client=client, signing_secret=secret, token_verification_enabled=False, process_before_response=True)
    app.command("/remedy")(only_ack)
    edge = LeewayASGI(app, lambda: (200, {"status": "ok"}), secret)
    uvicorn.run(edge, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


def only_ack(ack: Ack) -> None:
    ack()


if __name__ == "__main__":
    main()
