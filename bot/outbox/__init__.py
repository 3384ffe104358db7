"""The one way out to Slack.

Services commit the messages they owe together with the state change (the outbox table); the
sender delivers them. The parts:
- `kinds`: which kinds are paced channel posts and which go at once;
- `rendering`: one renderer per kind turns a message into the Slack call that delivers it;
- `transport`: makes that call and reads Slack's answer;
- `failures`: what becomes of a message Slack refused (retry, hold the channel, or fail with a fix);
- `pacing`: the lease, the gap between posts to a channel, how long the loop rests;
- `sender`: the loop that claims, sends and records.
"""

from bot.outbox.failures import Fail, Hold, Outcome, Retry, classify
from bot.outbox.kinds import POSTS, UNPACED
from bot.outbox.pacing import PASS_GAP, QUIET_GAP, pause, seconds_until
from bot.outbox.rendering import Defer, Delivery, Drop
from bot.outbox.sender import Sender, backlog

__all__ = [
    "PASS_GAP",
    "POSTS",
    "QUIET_GAP",
    "UNPACED",
    "Defer",
    "Delivery",
    "Drop",
    "Fail",
    "Hold",
    "Outcome",
    "Retry",
    "Sender",
    "backlog",
    "classify",
    "pause",
    "seconds_until",
]
