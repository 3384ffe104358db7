"""The API's request and response bodies: what validates a request is what the OpenAPI
document describes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from bot.core.export import DecisionRow
from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.core.vocabulary import CustomerOutcome, RequestedBy, ReviewOutcome, Via
from bot.services.product import ProductAnswer

# An amount as a decimal string ("15", "15.50") or a JSON number; at most two decimal places.
Amount = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2, examples=["15"])]
FairAmount = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, examples=["10"])]
# Amounts in answers: always a decimal string, never a float.
AMOUNT_PATTERN = r"^[0-9]+(\.[0-9]+)?$"
SLACK_USER = r"^[UW][A-Z0-9]{2,31}$"


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, max_length=100, description="The customer's id in your product.")
    name: str | None = Field(default=None, max_length=200)


class ProposalRequest(BaseModel):
    """A remedy to propose: for an agent (a helpdesk sidebar), or asked by the customer."""

    model_config = ConfigDict(extra="forbid")

    remedy: str = Field(min_length=1, max_length=40, description="A remedy id from the policy.", examples=["late_fee"])
    amount: Amount
    case: str = Field(min_length=1, max_length=100, description="The case reference.", examples=["#4711"])
    what_happened: str = Field(min_length=1, max_length=3000, examples=["Charged twice in October."])
    fair: FairAmount | None = Field(default=None, description="What the customer said would be fair.")
    requested_by: RequestedBy
    agent: str | None = Field(
        default=None,
        pattern=SLACK_USER,
        description="The agent's Slack user id; required when requested_by is agent.",
        examples=["U0ANA"],
    )
    customer: Customer | None = None

    def canonical(self) -> dict[str, Any]:
        """The body as its idempotency fingerprint sees it: "15", 15 and "15.00" are one amount."""
        body = self.model_dump(mode="json")
        body["amount"] = _money(self.amount)
        body["fair"] = None if self.fair is None else _money(self.fair)
        return body


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


class ProposalAnswer(BaseModel):
    """Where a proposal stands."""

    id: int
    status: Status
    tier: Tier
    remedy: str = Field(description="The remedy id.")
    amount: str = Field(pattern=AMOUNT_PATTERN, examples=["15.00"])
    unit: str = Field(description='A currency code, or "days".', examples=["USD"])
    case: str
    requested_by: RequestedBy | None = Field(description="None for a proposal made in Slack.")
    proposer: str | None = Field(description="The agent who proposed it (or took it up).")
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None

    @classmethod
    def of(cls, answer: ProductAnswer) -> ProposalAnswer:
        return cls(
            id=answer.id,
            status=answer.status,
            tier=answer.tier,
            remedy=answer.remedy_id,
            amount=str(answer.amount),
            unit=answer.unit,
            case=answer.case_ref,
            requested_by=answer.requested_by,
            proposer=answer.proposer,
            created_at=answer.created_at,
            decided_at=answer.decided_at,
            decided_by=answer.decided_by,
        )


class DecisionOut(BaseModel):
    """A proposal that ended: granted, declined, expired or withdrawn."""

    id: int
    decided_at: datetime
    status: Status
    remedy_id: str
    remedy: str = Field(description="The remedy's label.")
    amount: str = Field(pattern=AMOUNT_PATTERN)
    unit: str
    case: str = Field(description="The case reference, as typed (the CSV's `case` column too).")
    tier: Tier
    proposer: str | None
    decided_by: str | None
    via: Via | None
    review: ReviewOutcome | None
    customer_outcome: CustomerOutcome | None

    @classmethod
    def of(cls, row: DecisionRow) -> DecisionOut:
        values = {name: getattr(row, name) for name in cls.model_fields if name != "case"}
        return cls(**{**values, "amount": str(row.amount), "case": row.case_ref})


class DecisionPage(BaseModel):
    decisions: list[DecisionOut]
    next_since: datetime | None = Field(
        description="A full page: ask again with this as `since`, and `next_after_id` as `after_id`, for the next."
    )
    next_after_id: int | None = Field(description="A full page: the last decision's id, the next page's `after_id`.")


class FieldProblem(BaseModel):
    field: str = Field(examples=["amount"])
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 describes it (served as application/problem+json)."""

    type: str = Field(examples=["urn:leeway:problem:invalid-request"])
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = Field(default=None, description="The fields at fault (422).")
