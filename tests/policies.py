"""Policies the tests use, as the YAML a team would write."""

from __future__ import annotations

from bot.core.policy import Policy
from bot.policy_file import parse_policy

AGENTS = ("U0ANA", "U0BEN", "U0CHO", "U0DAN")
LEADS = ("U0LEE", "U0LIZ")
REQUESTS, DECISIONS, KUDOS = "C0REQ", "C0DEC", "C0KUD"

TEAM_POLICY = f"""\
currency: USD
channels: {{requests: {REQUESTS}, decisions: {DECISIONS}, kudos: {KUDOS}}}
people:
  agents: [{", ".join(AGENTS)}]
  leads: [{", ".join(LEADS)}]
remedies:
  - id: refund
    label: Refund
    alone_up_to: 50
    peer_up_to: 150
    lead_up_to: 500
  - id: late_fee
    label: Waive a late fee
    alone_up_to: 20
    peer_up_to: 100
    lead_up_to: 300
  - id: extension
    label: Extend a course
    unit: days
    alone_up_to: 7
    peer_up_to: 30
    lead_up_to: 90
  - id: meal
    label: Free meal
    alone_up_to: 25
    peer_up_to: 0
    lead_up_to: 60
"""


def team_policy() -> Policy:
    return parse_policy(TEAM_POLICY, source="test-policy.yml")
