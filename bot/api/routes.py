"""The endpoints under /api/v1/. Each is synchronous (the services are synchronous SQLAlchemy),
so FastAPI runs it in its threadpool; each calls one service and puts its answer into JSON."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, AwareDatetime
from sqlalchemy.exc import SQLAlchemyError

from bot.api.models import DecisionOut, DecisionPage, FieldProblem, Problem, ProposalAnswer, ProposalRequest
from bot.api.problems import ApiProblem
from bot.core.export import decisions_csv
from bot.core.integrations import fingerprint
from bot.core.lifecycle import Status
from bot.core.vocabulary import Scope
from bot.services import integrations
from bot.services.context import Context
from bot.services.decisions import decisions_between
from bot.services.integrations import Caller, KeyConflict
from bot.services.product import ProductAnswer, ProductOrder, ProductRefused, standing

log = logging.getLogger("leeway.api")

PREFIX = "/api/v1"
BEARER = HTTPBearer(auto_error=False, description="An integration's token (`python -m bot integration add`).")
# Printable ASCII, no spaces; short enough that the proposal's source key, "api:<id>:<key>",
# fits its 255 characters.
KEY_PATTERN = r"^[!-~]{1,200}$"
MAX_ID = 2_147_483_647  # a proposal id is a 32-bit integer on PostgreSQL
DECISIONS_PAGE = 100
DECISIONS_PAGE_MAX = 1000
# How the order names a field, as the request body does.
REQUEST_FIELDS = {
    "remedy_id": "remedy",
    "case_ref": "case",
    "summary": "what_happened",
    "customer_id": "customer.id",
    "customer_name": "customer.name",
}


def _problem(description: str, **extra: Any) -> dict[str, Any]:
    return {"model": Problem, "description": description, **extra}


CHALLENGE = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}
RETRY_AFTER = {
    "Retry-After": {"description": "Seconds until the next minute's requests.", "schema": {"type": "integer"}}
}
AUTH_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _problem("The token is missing, unknown or revoked.", headers=CHALLENGE),
    403: _problem("The token lacks the scope this needs."),
    422: _problem("Bad input: `errors` names the fields."),
    429: _problem("Over the integration's requests a minute.", headers=RETRY_AFTER),
}


@dataclass(frozen=True)
class ApiSettings:
    """What the API is given besides the runtime's Context."""

    rate_limit_per_minute: int
    max_body_bytes: int


def _in_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of the range of times Leeway keeps") from None


# A time in a query, with its zone (a time without one could mean any), as UTC.
Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def caller(
    request: Request,
    ctx: Annotated[Context, Depends(context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Caller:
    """The integration behind the request's token, which also spends one of its requests a minute."""
    challenge = {"WWW-Authenticate": 'Bearer realm="leeway"'}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiProblem(401, "Send the integration's token as `Authorization: Bearer <token>`.", headers=challenge)
    found = integrations.caller_of(ctx, credentials.credentials)
    if found is None:
        challenge["WWW-Authenticate"] += ', error="invalid_token"'
        raise ApiProblem(401, "The token is unknown or was revoked.", headers=challenge)
    settings: ApiSettings = request.app.state.settings
    wait = integrations.spend_rate(ctx, found, per_minute=settings.rate_limit_per_minute)
    if wait is not None:
        raise ApiProblem(
            429,
            f"This integration made its {settings.rate_limit_per_minute} requests this minute; try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
    return found


def needs(*scopes: Scope) -> Any:
    """A dependency: the caller, who must hold one of `scopes`."""

    def check(who: Annotated[Caller, Depends(caller)]) -> Caller:
        if not who.scopes & set(scopes):
            wanted = " or ".join(f"`{s}`" for s in scopes)
            raise ApiProblem(403, f"This needs a token with the {wanted} scope; `{who.name}` has no such scope.")
        return who

    return Depends(check)


router = APIRouter(prefix=PREFIX)


@router.post(
    "/proposals",
    status_code=201,
    response_model=ProposalAnswer,
    summary="Propose a remedy",
    responses={
        201: {"description": "Granted at once."},
        202: {"model": ProposalAnswer, "description": "Recorded, and waiting for a peer or a lead."},
        409: _problem("The Idempotency-Key was used before with another body."),
        413: _problem("The body is over the API's limit."),
        **AUTH_PROBLEMS,
    },
)
def post_proposal(
    body: ProposalRequest,
    ctx: Annotated[Context, Depends(context)],
    who: Annotated[Caller, needs(Scope.PROPOSE)],
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            pattern=KEY_PATTERN,
            description="Unique per proposal: a repeat with the same body gets the same answer and records nothing.",
        ),
    ],
) -> JSONResponse:
    try:
        ctx.refresh_policy_if_due()
    except SQLAlchemyError:  # the request's own database work will say what failed
        log.warning("could not read the limits in force; using the last known", exc_info=True)
    order = ProductOrder(
        integration=who.name,
        remedy_id=body.remedy,
        amount=body.amount,
        case_ref=body.case,
        what_happened=body.what_happened,
        fair=body.fair,
        requested_by=body.requested_by,
        agent=body.agent,
        customer_id=body.customer.id if body.customer else None,
        customer_name=body.customer.name if body.customer else None,
    )
    try:
        answered = integrations.propose_once(
            ctx, who, key=idempotency_key, fingerprint=fingerprint(body.canonical()), order=order, render=_render
        )
    except ProductRefused as refused:
        field = REQUEST_FIELDS.get(refused.field or "", refused.field)
        errors = [FieldProblem(field=field, message=refused.message)] if field else []
        raise ApiProblem(422, refused.message, errors=errors) from None
    if isinstance(answered, KeyConflict):
        raise ApiProblem(
            409, "This Idempotency-Key was used before with another body: use a new key for a new proposal."
        )
    headers = {"Location": f"{PREFIX}/proposals/{answered.body['id']}"}
    if answered.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(answered.body, status_code=answered.status_code, headers=headers)


def _render(answer: ProductAnswer) -> tuple[int, dict[str, Any]]:
    status = 201 if answer.status is Status.GRANTED else 202
    return status, ProposalAnswer.of(answer).model_dump(mode="json")


@router.get(
    "/proposals/{proposal_id}",
    response_model=ProposalAnswer,
    summary="Where a proposal stands",
    responses={404: _problem("No such proposal (or not one this token may see)."), **AUTH_PROBLEMS},
)
def get_proposal(
    ctx: Annotated[Context, Depends(context)],
    who: Annotated[Caller, needs(Scope.PROPOSE, Scope.READ)],
    proposal_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> ProposalAnswer:
    # A `propose` token sees the proposals its own integration made; a `read` token, any.
    visible = Scope.READ in who.scopes or integrations.made_by(ctx, who, proposal_id)
    answer = standing(ctx, proposal_id) if visible else None
    if answer is None:
        raise ApiProblem(404, f"There is no proposal {proposal_id} this token may see.")
    return ProposalAnswer.of(answer)


@router.get(
    "/decisions",
    response_model=DecisionPage,
    summary="Decisions since a time, oldest first",
    responses={
        200: {
            "description": "JSON, or with `Accept: text/csv` the CSV export (a full page links the next).",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **AUTH_PROBLEMS,
    },
)
def get_decisions(
    request: Request,
    ctx: Annotated[Context, Depends(context)],
    _who: Annotated[Caller, needs(Scope.READ)],
    since: Annotated[Instant, Query(description="From this time (inclusive), with its time zone.")],
    until: Annotated[
        Instant | None, Query(description="Up to this time (inclusive, as /remedy export counts).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=DECISIONS_PAGE_MAX)] = DECISIONS_PAGE,
    after_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="With `since`: of the decisions at that time, only those past this id."),
    ] = None,
) -> Response:
    rows = decisions_between(ctx, since=since, until=until, limit=limit, after_id=after_id)
    # A full page names where the next begins: its last decision's time and id, so decisions
    # sharing that instant are neither repeated nor skipped, however many there are.
    last = rows[-1] if len(rows) == limit else None
    if "text/csv" in request.headers.get("accept", ""):
        headers = {}
        if last is not None:
            query = request.url.include_query_params(since=last.decided_at.isoformat(), after_id=last.id)
            headers["Link"] = f'<{query.path}?{query.query}>; rel="next"'
        return Response(decisions_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
    page = DecisionPage(
        decisions=[DecisionOut.of(row) for row in rows],
        next_since=last.decided_at if last else None,
        next_after_id=last.id if last else None,
    )
    return JSONResponse(page.model_dump(mode="json"))
