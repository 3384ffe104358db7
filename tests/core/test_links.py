"""A case reference as a link to the helpdesk: the policy's case_url template, filled in."""

from __future__ import annotations

import pytest

from bot.core.links import case_link, case_url, check_template
from bot.policy_file import PolicyError, parse_policy
from tests.policies import TEAM_POLICY

ZENDESK = "https://acme.zendesk.com/agent/tickets/{case}"
NUMBERED = "https://acme.zendesk.com/agent/tickets/{case_number}"


@pytest.mark.parametrize(
    ("case_ref", "template", "shown"),
    [
        ("#4711", ZENDESK, "<https://acme.zendesk.com/agent/tickets/%234711|#4711>"),
        ("ORD-88", ZENDESK, "<https://acme.zendesk.com/agent/tickets/ORD-88|ORD-88>"),
        ("a/b c?d", ZENDESK, "<https://acme.zendesk.com/agent/tickets/a%2Fb%20c%3Fd|a/b c?d>"),
        ("#4711", NUMBERED, "<https://acme.zendesk.com/agent/tickets/4711|#4711>"),
        ("ORD-88", NUMBERED, "<https://acme.zendesk.com/agent/tickets/88|ORD-88>"),
        # No digits for {case_number}: shown, but unlinked.
        ("VIP", NUMBERED, "VIP"),
        # Both placeholders, and a query string with &, which Slack wants escaped.
        (
            "#12",
            "https://desk.example/t?id={case_number}&ref={case}",
            "<https://desk.example/t?id=12&amp;ref=%2312|#12>",
        ),
        # What people typed never becomes markup: escaped in the label, encoded in the URL.
        (
            "<@U1>&<!here>",
            ZENDESK,
            "<https://acme.zendesk.com/agent/tickets/%3C%40U1%3E%26%3C%21here%3E|&lt;@U1&gt;&amp;&lt;!here&gt;>",
        ),
        ("a|b", ZENDESK, "<https://acme.zendesk.com/agent/tickets/a%7Cb|a|b>"),
    ],
)
def test_a_case_is_linked_by_the_template(case_ref: str, template: str, shown: str) -> None:
    assert case_link(case_ref, template) == shown


@pytest.mark.parametrize("template", [None, ""])
def test_without_a_template_the_case_is_plain_and_escaped(template: str | None) -> None:
    assert case_link("#4711 <b>", template) == "#4711 &lt;b&gt;"
    assert case_url("#4711", template) is None


def test_case_number_is_every_digit_in_the_reference() -> None:
    assert case_url("INC-0012/3", NUMBERED) == "https://acme.zendesk.com/agent/tickets/00123"
    assert case_url("#٤٧", NUMBERED) is None  # only 0-9 count, as in a case reference's number


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("ftp://desk.example/{case}", "must start with https://"),
        ("desk.example/{case}", "must start with https://"),
        ("https:///{case}", "name a host"),
        ("https://desk.example/{ticket}", "{ticket} isn't a placeholder Leeway knows"),
        ("https://desk.example/{case", "stray { or }"),
        ("https://desk.example/case}", "stray { or }"),
        ("https://desk.example/tickets", "needs {case} or {case_number}"),
        ("https://desk.example/{case} x", "without spaces"),
        ("https://desk.example/<{case}>", "without spaces, quotes, <, > or |"),
    ],
)
def test_a_bad_template_says_what_to_fix(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}").replace("?", r"\?")):
        check_template(template)


def test_the_policy_checks_case_url_at_load_in_one_line() -> None:
    good = parse_policy(TEAM_POLICY + f'case_url: "{ZENDESK}"\n')
    assert good.case_url == ZENDESK
    assert parse_policy(TEAM_POLICY).case_url is None
    with pytest.raises(PolicyError) as raised:
        parse_policy(TEAM_POLICY + 'case_url: "https://desk.example/{ticket}"\n')
    (line,) = str(raised.value).splitlines()
    assert "case_url: {ticket} isn't a placeholder Leeway knows" in line
    assert line.startswith("policy line ")  # the key and its line, as for every key
