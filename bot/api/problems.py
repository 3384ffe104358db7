"""Every error the API answers is an RFC 9457 problem document (application/problem+json)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.api.models import FieldProblem, Problem

log = logging.getLogger("leeway.api")

MEDIA_TYPE = "application/problem+json"
PROBLEM = "urn:leeway:problem:"

# Each status's problem type (a URN: documented in README, not a page to fetch).
TYPES = {
    400: "bad-request",
    401: "unauthorized",
    403: "missing-scope",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "idempotency-key-reused",
    413: "body-too-large",
    422: "invalid-request",
    429: "rate-limited",
    500: "internal-error",
}


class ApiProblem(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Sequence[FieldProblem] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}


def problem_body(status: int, detail: str | None, errors: Sequence[FieldProblem] = ()) -> bytes:
    problem = Problem(
        type=PROBLEM + TYPES.get(status, "error"),
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        errors=list(errors) or None,
    )
    return json.dumps(problem.model_dump(mode="json", exclude_none=True)).encode()


class ProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


def problem_response(
    status: int, detail: str | None, *, errors: Sequence[FieldProblem] = (), headers: dict[str, str] | None = None
) -> ProblemResponse:
    content = json.loads(problem_body(status, detail, errors))
    return ProblemResponse(content, status_code=status, headers=headers)


def field_name(loc: Sequence[int | str]) -> str:
    """A validation error's location as the client wrote it: `amount`, `customer.id`,
    `Idempotency-Key`, `since` (the body, header or query it was in left out)."""
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "header", "path"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    async def on_problem(_request: Request, error: Exception) -> ProblemResponse:
        assert isinstance(error, ApiProblem)
        return problem_response(error.status, error.detail, errors=error.errors, headers=error.headers)

    async def on_invalid(_request: Request, error: Exception) -> ProblemResponse:
        assert isinstance(error, RequestValidationError)
        errors: list[FieldProblem] = []
        for item in error.errors():
            problem = FieldProblem(field=field_name(item.get("loc", ())), message=str(item.get("msg", "is invalid")))
            if problem.field not in {e.field for e in errors}:
                errors.append(problem)
        named = ", ".join(e.field for e in errors)
        return problem_response(422, f"The request isn't what the API takes: see {named}.", errors=errors)

    async def on_http(_request: Request, error: Exception) -> ProblemResponse:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 400:  # FastAPI could not read the body (not UTF-8, say): bad input, as any
            body = FieldProblem(field="body", message="must be a JSON object in UTF-8")
            return problem_response(422, "The body isn't JSON in UTF-8.", errors=[body])
        detail = {404: "There is nothing at this address.", 405: "This address doesn't take that method."}
        headers: dict[str, Any] = dict(error.headers or {})
        return problem_response(error.status_code, detail.get(error.status_code, str(error.detail)), headers=headers)

    async def on_unexpected(_request: Request, error: Exception) -> ProblemResponse:
        reference = uuid.uuid4().hex[:8]
        log.error("unexpected error (ref %s) answering an API request", reference, exc_info=error)
        return problem_response(500, f"Something went wrong on Leeway's side (reference {reference}).")

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
