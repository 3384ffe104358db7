"""`/remedy` text → what the agent asked for, or a precise, friendly error.

Grammar: ``<remedy> <amount> <case reference> <what happened…>`` with an optional
``<@peer>`` mention and an optional ``fair:<amount>`` anywhere. Incomplete text is
not an error: it becomes a partial draft that the edge shows as a prefilled form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.parsing.facts import (
    DAY_WORDS,
    MAX_TEXT,
    Draft,
    InputError,
    check_case_ref,
    check_summary,
    check_text,
    match_remedy,
    parse_amount,
)
from bot.core.policy import CURRENCY_SYMBOLS, Policy, Remedy
from bot.core.subcommands import LimitCommand, Outcome, Trust, parse_limits, parse_outcome
from bot.core.timing import parse_duration

USAGE = "/remedy <remedy> <amount> <case> <what happened> [@peer] [fair:<amount>]"


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Limits:
    pass


@dataclass(frozen=True)
class Away:
    """Not available for routing: indefinitely, until a day, or for a while."""

    until: date | None = None
    duration: timedelta | None = None


@dataclass(frozen=True)
class Back:
    pass


@dataclass(frozen=True)
class Withdraw:
    case_ref: str


@dataclass(frozen=True)
class Review:
    pass


@dataclass(frozen=True)
class Usage:
    days: int = 7


@dataclass(frozen=True)
class Export:
    """A lead's CSV of the decisions of the last `days` days, sent to them privately."""

    days: int = 30


Command = Help | Limits | Away | Back | Withdraw | Review | Usage | Export | Draft | LimitCommand | Trust | Outcome

_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_SPECIAL_MENTION = re.compile(r"<!(here|channel|everyone|subteam\^[A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_LINK = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_CHANNEL_LINK_BARE = re.compile(r"<#([CG][A-Z0-9]+)>")
_URL_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>")
_FAIR = re.compile(r"(?i)(?<!\S)fair:\s*(\S*)")
_HAS_DIGIT = re.compile(r"[0-9]")


_SUBCOMMANDS: dict[str, Command] = {
    "help": Help(),
    "limits": Limits(),
    "back": Back(),
    "review": Review(),
    "usage": Usage(),
    "export": Export(),
    "trust": Trust(),
}


_AWAY_USAGE = "Write `/remedy away`, `/remedy away until 2026-12-01` or `/remedy away for 3d`."


def _away(words: list[str]) -> Away:
    if not words:
        return Away()
    if len(words) == 2 and words[0].lower() == "until":
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", words[1]):
            raise InputError(f"`{words[1][:20]}` isn't a date I can read. {_AWAY_USAGE}")
        try:
            return Away(until=date.fromisoformat(words[1]))
        except ValueError:
            raise InputError(f"`{words[1]}` isn't a real date. {_AWAY_USAGE}") from None
    if len(words) == 2 and words[0].lower() == "for":
        try:
            return Away(duration=parse_duration(words[1]))
        except ValueError:
            raise InputError(f"`{words[1][:20]}` isn't a duration I can read. {_AWAY_USAGE}") from None
    raise InputError(_AWAY_USAGE)


def _period(word: str, command: str, example: str) -> int:
    """A report's period in days, written like `30d` (1d to 365d)."""
    match = re.fullmatch(r"([0-9]{1,3})d", word.lower())
    if not match or not 1 <= int(match.group(1)) <= 365:
        other = "30d" if example == "7d" else "7d"
        raise InputError(
            f"Write `/remedy {command}`, `/remedy {command} {example}` or `/remedy {command} {other}` (up to 365d)."
        )
    return int(match.group(1))


def parse_command(text: str, policy: Policy) -> Command:
    text = check_text(text, limit=MAX_TEXT, what="A proposal")
    words = text.split()
    if len(words) == 1 and words[0].lower() in _SUBCOMMANDS:
        return _SUBCOMMANDS[words[0].lower()]
    if words and words[0].lower() == "away":
        return _away(words[1:])
    if len(words) > 1 and words[0].lower() == "limits":
        return parse_limits(words[1:], policy)
    if words and words[0].lower() == "outcome":
        return parse_outcome(words[1:])
    if len(words) == 2 and words[0].lower() == "usage":
        return Usage(days=_period(words[1], "usage", "7d"))
    if len(words) == 2 and words[0].lower() == "export":
        return Export(days=_period(words[1], "export", "30d"))
    if words and words[0].lower() == "withdraw":
        if len(words) == 1:
            raise InputError("Which request? Give its case reference: `/remedy withdraw #4711`.", "case_ref")
        return Withdraw(check_case_ref(" ".join(words[1:])))

    special = _SPECIAL_MENTION.search(text)
    if special:
        raise InputError(
            "Leeway asks one person, not a crowd: leave out @here, @channel and group mentions, "
            "and mention one peer if you want to choose who agrees.",
            "peer",
        )
    peers = list(dict.fromkeys(_USER_MENTION.findall(text)))
    if len(peers) > 1:
        raise InputError(
            f"You mentioned {len(peers)} people; mention just one peer to ask, or none and Leeway picks one for you.",
            "peer",
        )
    peer = peers[0] if peers else None
    text = _USER_MENTION.sub(" ", text)
    text = _plain(text)

    fair_raw: str | None = None
    fairs = _FAIR.findall(text)
    if len(fairs) > 1:
        raise InputError("Give `fair:` once: what the customer said would be fair.", "fair")
    if fairs:
        fair_raw = fairs[0]
        if not fair_raw:
            raise InputError("`fair:` needs an amount right after it, like `fair:25`.", "fair")
        text = _FAIR.sub(" ", text)

    tokens = text.split()
    if not tokens:
        if fair_raw is not None:
            raise InputError(
                "Name the remedy first, then `fair:`, e.g. `/remedy refund 40 #4711 parcel broken fair:25`.",
                "remedy_id",
            )
        return Draft(peer=peer)

    # Each fact in turn; the draft is made once, with what was understood (text ends early: a
    # partial draft, which the form completes).
    remedy = match_remedy(tokens[0], policy)
    rest = tokens[1:]
    fair = None if fair_raw is None else parse_amount(fair_raw, remedy, policy, what="fair", allow_zero=True)
    if not rest:
        return Draft(remedy_id=remedy.id, fair=fair, peer=peer)

    amount_text, rest = _take_amount(rest, remedy, policy)
    amount = parse_amount(amount_text, remedy, policy)
    if not rest:
        return Draft(remedy_id=remedy.id, amount=amount, fair=fair, peer=peer)

    # A case reference carries a number (#4711, ORD-88); without one the words are
    # the story, and the form asks for the reference instead of guessing.
    case_ref = None
    if _HAS_DIGIT.search(rest[0]):
        case_ref = check_case_ref(rest[0])
        rest = rest[1:]
    summary = check_summary(" ".join(rest)) if rest else None
    return Draft(remedy_id=remedy.id, amount=amount, case_ref=case_ref, summary=summary, fair=fair, peer=peer)


def _take_amount(tokens: list[str], remedy: Remedy, policy: Policy) -> tuple[str, list[str]]:
    """The amount may span two words (`25 USD`, `7 days`)."""
    first = tokens[0]
    if len(tokens) > 1:
        second = tokens[1].lower()
        unit_words = DAY_WORDS if remedy.in_days else {policy.currency.lower()}
        if second in unit_words or second.upper() in CURRENCY_SYMBOLS:
            return f"{first} {tokens[1]}", tokens[2:]
    return first, tokens[1:]


def _plain(text: str) -> str:
    """Slack markup in command text → the plain words the agent typed."""
    text = _CHANNEL_LINK.sub(lambda m: "#" + m.group(1), text)
    text = _CHANNEL_LINK_BARE.sub(lambda m: "#" + m.group(1), text)
    text = _URL_LINK.sub(lambda m: m.group(1), text)
    # Slack escapes these three in command text; store what the person typed.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
