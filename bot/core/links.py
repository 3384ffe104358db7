"""A case reference as a link to the team's helpdesk: the policy's `case_url` template, filled in
with the reference. Pure; every message that names a case renders it through `case_link`."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

# What a template may ask for: the reference as typed (URL-encoded), or only its digits.
PLACEHOLDERS = ("case", "case_number")
EXAMPLE = "https://acme.zendesk.com/agent/tickets/{case}"

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_DIGITS = re.compile(r"[0-9]")


def mrkdwn_escape(text: str) -> str:
    """Slack's escaping for text it would otherwise read as mentions or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def check_template(template: str) -> str:
    """The template, or ValueError with one line saying what to fix."""
    if any(ch.isspace() or ch in "<>|\"'" for ch in template):
        raise ValueError(f"must be a URL without spaces, quotes, <, > or |, like {EXAMPLE}")
    parts = urlsplit(_PLACEHOLDER.sub("x", template))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must start with https:// (or http://) and name a host, like {EXAMPLE}")
    names = _PLACEHOLDER.findall(template)
    unknown = [name for name in names if name not in PLACEHOLDERS]
    if unknown:
        raise ValueError(
            f"{{{unknown[0]}}} isn't a placeholder Leeway knows: use {{case}} (the reference as typed) "
            "or {case_number} (its digits)"
        )
    if "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        raise ValueError("has a stray { or }: placeholders are written {case} or {case_number}")
    if not names:
        raise ValueError(f"needs {{case}} or {{case_number}} where the case goes, like {EXAMPLE}")
    return template


def case_url(case_ref: str, template: str | None) -> str | None:
    """The case's address, or None: no template, or one that wants digits the reference lacks."""
    if not template:
        return None
    digits = "".join(_DIGITS.findall(case_ref))
    if "{case_number}" in template and not digits:
        return None
    values = {"case": quote(case_ref, safe=""), "case_number": digits}
    return _PLACEHOLDER.sub(lambda found: values[found.group(1)], template)


def case_link(case_ref: str, template: str | None) -> str:
    """The reference in Slack mrkdwn: `<url|#4711>` with a template, else the escaped reference."""
    shown = mrkdwn_escape(case_ref)
    url = case_url(case_ref, template)
    if url is None:
        return shown
    # The URL holds no "|" (the template may not, and the reference is encoded), so the first
    # one ends it, and the label may hold any.
    return f"<{mrkdwn_escape(url)}|{shown}>"
