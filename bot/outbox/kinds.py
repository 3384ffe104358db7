"""Which kinds of message are paced channel posts, which go at once, and which warn the proposer
when they fail."""

from __future__ import annotations

from bot.core.vocabulary import OutboxKind

# The kinds sent with chat.postMessage (to their row's channel), which the pacing applies to.
POSTS = frozenset(
    {
        OutboxKind.REQUEST,
        OutboxKind.REROUTE_PING,
        OutboxKind.DECISION,
        OutboxKind.KUDOS,
        OutboxKind.PROPOSER_NOTE,
        OutboxKind.NOTICE,
        OutboxKind.COACHING,
        OutboxKind.LIMIT_CHANGE,
        OutboxKind.KUDOS_REPLY,
        OutboxKind.WELCOME,
        OutboxKind.NUDGE,
    }
)
# Events for company systems' endpoints: never paced like Slack, and sent by their own lanes
# (bot.outbox.webhooks), so a slow endpoint holds up no Slack post.
WEBHOOKS = frozenset({OutboxKind.WEBHOOK})
# Every other kind (updates, ephemeral lines, replies, Home tabs) goes to Slack as soon as it is due.
UNPACED = frozenset(OutboxKind) - POSTS - WEBHOOKS
# Only channel posts that carry a decision warn the proposer when they fail; a failed DM cannot
# warn by DM.
WARN_PROPOSER = frozenset({OutboxKind.DECISION, OutboxKind.KUDOS, OutboxKind.REQUEST, OutboxKind.REROUTE_PING})
