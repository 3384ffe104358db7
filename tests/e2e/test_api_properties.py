"""The API against its own OpenAPI document, property-based (schemathesis): requests generated
from the document, sent to the running server with a real token, and every answer checked
against the document: its status codes, content types, headers and schemas, and never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from bot.core.vocabulary import Scope
from bot.standin import StandInSlack
from tests.e2e.api_support import running, token_for
from tests.e2e.support import Bot
from tests.policies import AGENTS, LEADS

pytestmark = pytest.mark.e2e

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Enough to reach each endpoint's shapes, few enough for every CI run; derandomized, so a run is
# the same on every machine.
EXAMPLES = 40


def recordable() -> st.SearchStrategy[dict[str, Any]]:
    """Proposals for agents on the tests' policy, within it or above it."""
    return st.fixed_dictionaries(
        {
            "remedy": st.sampled_from(["refund", "late_fee", "extension", "meal"]),
            "amount": st.integers(min_value=1, max_value=600).map(str),
            "case": st.from_regex(r"\A#[0-9]{1,6}\Z"),
            "what_happened": st.sampled_from(["Charged twice.", "Parcel arrived broken.", "Course ran late."]),
            "requested_by": st.just("agent"),
            "agent": st.sampled_from([*AGENTS, *LEADS]),
        },
        optional={"fair": st.integers(min_value=0, max_value=100).map(str)},
    )


def _operation(result: Ok[APIOperation[Any, Any, Any, Any]] | Err[InvalidSchema]) -> APIOperation[Any, Any, Any, Any]:
    assert isinstance(result, Ok), result.err()
    return result.ok()


def _with_body(operation: APIOperation[Any, Any, Any, Any], body: dict[str, Any]) -> st.SearchStrategy[Case[Any]]:
    return operation.as_strategy(body=body)


@pytest.fixture
def bot(slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Bot]:
    with running(slack, database_url, engine, tmp_path) as started:
        yield started


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_its_openapi_document_says(bot: Bot, mode: GenerationMode) -> None:
    """Positive: requests the document allows. Negative: requests it doesn't, which must be
    refused with a documented status and a problem document, never a 5xx."""
    token = token_for(bot, "schemathesis", Scope.PROPOSE, Scope.READ)
    schema = schemathesis.openapi.from_url(f"{bot.server.url}/api/v1/openapi.json")
    operations = [_operation(result) for result in schema.get_all_operations()]
    assert {f"{o.method.upper()} {o.path}" for o in operations} == {
        "POST /api/v1/proposals",
        "GET /api/v1/proposals/{proposal_id}",
        "GET /api/v1/decisions",
    }
    for operation in operations:
        cases = operation.as_strategy(mode)
        if operation.method.upper() == "POST" and mode is GenerationMode.POSITIVE:
            # Bodies from the document alone name no remedy or agent of the policy: add some that
            # do, so the answers of proposals recorded (201, 202) are checked too.
            cases = st.one_of(cases, recordable().flatmap(partial(_with_body, operation)))

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES if mode is GenerationMode.POSITIVE else EXAMPLES // 2,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: Case[Any]) -> None:
            case.call_and_validate(base_url=bot.server.url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        conforms()
