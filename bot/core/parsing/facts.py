"""The facts of a proposal, each checked as a person types it (in `/remedy` text or the form):
the remedy, the amount, the case reference, what happened, a reason; an InputError says how to
write what was wrong."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import ParamSpec, TypeVar

from bot.core.policy import Policy, Remedy

MAX_TEXT = 2000
MAX_SUMMARY = 1500
MAX_CASE_REF = 64
MAX_REASON = 1000
# Nine integer digits is already far beyond any remedy; longer numbers are typos or probes.
MAX_INTEGER_DIGITS = 9


_P = ParamSpec("_P")
_T = TypeVar("_T")

DAY_WORDS = {"d", "day", "days"}
_ASCII_AMOUNT = re.compile(
    r"(?P<pre>[^\s0-9.,+-]{1,3})?\s*(?P<num>[0-9][0-9,]*(?:\.[0-9]+)?)\s*(?P<post>[A-Za-z]{1,4})?"
)


class InputError(Exception):
    """Bad input, with the message to show the person who typed it.

    `field` names the form field at fault, so a form can show it in place.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Draft:
    """What was understood of a proposal so far."""

    remedy_id: str | None = None
    amount: Decimal | None = None
    case_ref: str | None = None
    summary: str | None = None
    fair: Decimal | None = None
    peer: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def missing(self) -> tuple[str, ...]:
        names = ("remedy_id", "amount", "case_ref", "summary")
        return tuple(n for n in names if getattr(self, n) is None)

    @property
    def complete(self) -> bool:
        return not self.missing


def parse_form(
    policy: Policy,
    *,
    remedy_id: str | None,
    amount: str | None,
    case_ref: str | None,
    summary: str | None,
    fair: str | None = None,
    peer: str | None = None,
) -> Draft | dict[str, str]:
    """The proposal form's fields as submitted (None for one left empty) → a complete draft, or
    what is wrong, keyed by the field's name. Every field is checked, so all problems show at once."""
    errors: dict[str, str] = {}

    def check(name: str, parse: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T | None:
        try:
            return parse(*args, **kwargs)
        except InputError as error:
            errors[name] = error.message
            return None

    remedy = check("remedy_id", match_remedy, remedy_id, policy) if remedy_id else None
    if not remedy_id:
        errors["remedy_id"] = "Choose a remedy."
    amount_value = fair_value = None
    if remedy is not None:
        amount_value = check("amount", parse_amount, amount or "", remedy, policy)
        if (fair or "").strip():
            fair_value = check("fair", parse_amount, fair or "", remedy, policy, what="fair", allow_zero=True)
    case = check("case_ref", check_case_ref, case_ref or "")
    story = check("summary", check_summary, summary or "")
    if errors:
        return errors
    return Draft(
        remedy_id=remedy.id if remedy else None,
        amount=amount_value,
        case_ref=case,
        summary=story,
        fair=fair_value,
        peer=peer,
    )


# Unicode's control characters (category Cc, fixed by the standard) and lone surrogates (Cs),
# but for newlines and tabs: one regular expression over the text, not a lookup per character.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def check_text(text: str, *, limit: int, what: str, field: str | None = None) -> str:
    """Refuse what no one types by hand: control characters and walls of text."""
    if _CONTROL.search(text):
        raise InputError(
            f"{what} contains control characters (like a NUL byte) that Leeway can't store. Please type it again.",
            field,
        )
    if len(text) > limit:
        raise InputError(
            f"{what} is {len(text):,} characters long; Leeway keeps it under {limit:,}. "
            "Summarise here and keep the full story in the case.",
            field,
        )
    return text.strip()


def match_remedy(word: str, policy: Policy) -> Remedy:
    """Exact id (any case), else an unambiguous prefix of an id or label."""
    wanted = word.strip().lower()
    exact = [r for r in policy.remedies if r.id == wanted]
    if exact:
        return exact[0]
    prefixed = [
        r for r in policy.remedies if wanted and (r.id.startswith(wanted) or r.label.lower().startswith(wanted))
    ]
    if len(prefixed) == 1:
        return prefixed[0]
    known = ", ".join(f"`{r.id}`" for r in policy.remedies)
    shown = word if len(word) <= 40 else word[:40] + "…"
    if prefixed:
        options = ", ".join(f"`{r.id}`" for r in prefixed)
        raise InputError(f"`{shown}` could mean {options}. Type a little more of the remedy's name.", "remedy_id")
    raise InputError(f"I don't know the remedy `{shown}`. The remedies in your policy are {known}.", "remedy_id")


def parse_amount(
    raw: str, remedy: Remedy, policy: Policy, *, what: str = "amount", allow_zero: bool = False
) -> Decimal:
    """A positive amount in the remedy's unit, or an InputError that says how to write it."""
    field_name = "fair" if what == "fair" else "amount"
    text = raw.strip()
    shown = text if len(text) <= 30 else text[:30] + "…"
    if not text:
        raise InputError(f"The {what} is missing.", field_name)
    if any(ch.isdigit() and not "0" <= ch <= "9" for ch in text):
        raise InputError(f"Please write the {what} with the digits 0–9 (I got `{shown}`).", field_name)
    if text[0] in "-−–":
        raise InputError(f"The {what} must be more than zero (I got `{shown}`).", field_name)
    example = "like `7` or `7d`" if remedy.in_days else f"like `25`, `25.50` or `{policy.currency_symbol or ''}25`"
    match = _ASCII_AMOUNT.fullmatch(text)
    if not match:
        raise InputError(f"`{shown}` isn't an amount I can read. Write the {what} {example}.", field_name)
    pre, number, post = match["pre"], match["num"], match["post"]
    if remedy.in_days:
        if pre or (post and post.lower() not in DAY_WORDS):
            raise InputError(f"{remedy.label} is counted in days: write the {what} {example}.", field_name)
    else:
        if post and post.lower() in DAY_WORDS:
            raise InputError(
                f"{remedy.label} is in {policy.currency}, not days: write the {what} {example}.", field_name
            )
        for marker in (pre, post):
            if marker and marker.upper() != policy.currency and marker != policy.currency_symbol:
                raise InputError(
                    f"Your policy's amounts are in {policy.currency}; write the {what} {example}.", field_name
                )
    if "," in number and not re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?", number):
        raise InputError(f"`{shown}` isn't an amount I can read. Write the {what} {example}.", field_name)
    number = number.replace(",", "")
    integer, _, decimals = number.partition(".")
    if len(integer.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise InputError(f"`{shown}` is far too large to be a real {what}. Check the number.", field_name)
    if remedy.in_days and decimals.strip("0"):
        raise InputError(f"{remedy.label} is counted in whole days (I got `{shown}`).", field_name)
    if len(decimals) > 2:
        raise InputError(f"The {what} can have at most two decimals (I got `{shown}`).", field_name)
    try:
        value = Decimal(number)
    except InvalidOperation:  # pragma: no cover - the pattern above only admits valid numbers
        raise InputError(f"`{shown}` isn't an amount I can read.", field_name) from None
    if value == 0 and not allow_zero:
        raise InputError(f"The {what} must be more than zero.", field_name)
    return value.quantize(Decimal("1") if remedy.in_days else Decimal("0.01"))


def check_case_ref(raw: str) -> str:
    ref = check_text(raw, limit=MAX_CASE_REF, what="The case reference", field="case_ref")
    if not ref:
        raise InputError("The case reference is missing.", "case_ref")
    if any(ch.isspace() for ch in ref) and len(ref.split()) > 3:
        raise InputError("The case reference should be short, like `#4711` or `ORD-88`.", "case_ref")
    return ref


def check_summary(raw: str) -> str:
    summary = check_text(raw, limit=MAX_SUMMARY, what="What happened", field="summary")
    if not summary:
        raise InputError("Say in a few words what happened.", "summary")
    return summary


def check_reason(raw: str | None) -> str | None:
    if raw is None:
        return None
    reason = check_text(raw, limit=MAX_REASON, what="The reason", field="reason")
    return reason or None
