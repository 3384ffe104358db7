"""Leeway's HTTP API for the company's own systems, under /api/v1/ beside Bolt's adapter.

FastAPI, because the pydantic models that validate each request also generate the OpenAPI 3.1
document (`/api/v1/openapi.json`): the description can't drift from what the server takes.
`routes` holds the endpoints, `models` the bodies, `problems` the RFC 9457 error documents."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from bot.api import problems
from bot.api.routes import PREFIX, ApiSettings, router
from bot.services.context import Context

__all__ = ["PREFIX", "ApiSettings", "create_api"]

DESCRIPTION = """Wire your product to Leeway: propose remedies for an agent, follow where they
stand, and read the decisions. Errors are RFC 9457 problem documents (application/problem+json)."""


def create_api(ctx: Context, settings: ApiSettings) -> FastAPI:
    app = FastAPI(
        title="Leeway API",
        version="1",
        description=DESCRIPTION,
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.settings = settings
    app.include_router(router)
    problems.install(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_problem_media_type(
                get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _with_problem_media_type(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI describes every response body as application/json; errors are served as
    application/problem+json, so the document says that."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if code.isdigit() and int(code) >= 400 and "application/json" in content:
                    response["content"] = {problems.MEDIA_TYPE: content["application/json"]}
    return schema
