"""Block Kit rendering, from domain objects and use-case results to what people read. No
decisions here: rendering turns a decided state into words.

One module per thing rendered: `posts` (what Leeway posts in channels and sends the proposer),
`replies` (private replies: results in words, help, limits), `forms`, `review` (decisions to
review, usage, the weekly digest), `app_home`; `markup` holds what they are all made of."""

from bot.slack.views.app_home import home
from bot.slack.views.forms import (
    FORM_ERROR_LIMIT,
    coaching_form,
    decline_form,
    form_errors,
    proposal_form,
    proposal_form_errors,
)
from bot.slack.views.markup import (
    SECTION_LIMIT,
    Message,
    amount_of,
    duration,
    escape,
    quote,
    seconds_between,
    section,
    what,
)
from bot.slack.views.posts import coaching_note, decision, kudos, proposer_note, request, reroute_ping
from bot.slack.views.replies import (
    FORM_DID_NOT_OPEN,
    Outcome,
    already_proposed,
    asked,
    granted_alone,
    help_message,
    limits_message,
    not_understood,
    out_of_policy,
    out_of_policy_short,
    outcome_words,
    went_wrong,
)
from bot.slack.views.review import (
    celebration_text,
    digest_text,
    review_blocks,
    review_message,
    usage_lines,
    usage_message,
    usage_rows,
    usage_summary,
)

__all__ = [
    "FORM_DID_NOT_OPEN",
    "FORM_ERROR_LIMIT",
    "SECTION_LIMIT",
    "Message",
    "Outcome",
    "already_proposed",
    "amount_of",
    "asked",
    "celebration_text",
    "coaching_form",
    "coaching_note",
    "decision",
    "decline_form",
    "digest_text",
    "duration",
    "escape",
    "form_errors",
    "granted_alone",
    "help_message",
    "home",
    "kudos",
    "limits_message",
    "not_understood",
    "out_of_policy",
    "out_of_policy_short",
    "outcome_words",
    "proposal_form",
    "proposal_form_errors",
    "proposer_note",
    "quote",
    "request",
    "reroute_ping",
    "review_blocks",
    "review_message",
    "seconds_between",
    "section",
    "usage_lines",
    "usage_message",
    "usage_rows",
    "usage_summary",
    "went_wrong",
    "what",
]
