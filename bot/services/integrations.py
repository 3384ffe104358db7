"""The company's systems that use the API: adding, listing and revoking them, who a token
belongs to, the rate limit, and answering a request once per Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.core import integrations as rules
from bot.core.integrations import IntegrationError
from bot.core.vocabulary import Scope
from bot.services.context import Context
from bot.services.product import ProductAnswer, ProductOrder, ProductRefused, propose_from_product
from storage import db, queries


@dataclass(frozen=True)
class Caller:
    """The integration a request's token belongs to."""

    id: int
    name: str
    scopes: frozenset[Scope]


@dataclass(frozen=True)
class IntegrationListed:
    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Answered:
    status_code: int
    body: dict[str, Any]
    replayed: bool  # the answer given before under the same key


@dataclass(frozen=True)
class KeyConflict:
    """The Idempotency-Key was used before with another body."""


# Managing integrations is the command line's, which has the database and no policy: these
# take the sessions and the time rather than a Context.


def add_integration(sessions: sessionmaker[Session], *, name: str, scopes: frozenset[Scope], now: datetime) -> str:
    """Create it; its token, which is never stored and can't be shown again."""
    rules.check_name(name)
    token = rules.new_token()
    try:
        with sessions.begin() as session:
            queries.add_integration(
                session,
                name=name,
                token_hash=rules.token_hash(token),
                scopes=rules.stored_scopes(scopes),
                now=now,
            )
    except IntegrityError:
        raise IntegrationError(
            f"An integration named `{name}` exists already: choose another name (a revoked integration keeps its name)."
        ) from None
    return token


def list_integrations(sessions: sessionmaker[Session]) -> list[IntegrationListed]:
    with db.reading(sessions) as session:
        return [
            IntegrationListed(i.name, rules.read_scopes(i.scopes), i.created_at, i.revoked_at)
            for i in queries.integrations(session)
        ]


def revoke_integration(sessions: sessionmaker[Session], *, name: str, now: datetime) -> bool:
    """Revoke it (its token answers 401 from now on); False if it was revoked already."""
    with sessions.begin() as session:
        if queries.integration_named(session, name=name) is None:
            raise IntegrationError(f"There is no integration named `{name[:70]}` (`integration list` shows them).")
        return queries.revoke_integration(session, name=name, now=now)


def caller_of(ctx: Context, token: str) -> Caller | None:
    """Whose token it is; None for one that is unknown or revoked."""
    if not token.startswith(rules.TOKEN_PREFIX):
        return None
    with db.reading(ctx.sessions) as session:
        found = queries.integration_by_token_hash(session, token_hash=rules.token_hash(token))
    if found is None or found.revoked_at is not None or not rules.hash_matches(found.token_hash, token):
        return None
    return Caller(found.id, found.name, rules.read_scopes(found.scopes))


def spend_rate(ctx: Context, caller: Caller, *, per_minute: int) -> int | None:
    """Count a request against the caller's limit; None if it may go ahead, else the seconds to wait."""
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        allowed = queries.spend_rate(session, integration_id=caller.id, window=rules.rate_window(now), limit=per_minute)
    return None if allowed else rules.retry_after(now)


def propose_once(
    ctx: Context,
    caller: Caller,
    *,
    key: str,
    fingerprint: str,
    order: ProductOrder,
    render: Callable[[ProductAnswer], tuple[int, dict[str, Any]]],
) -> Answered | KeyConflict:
    """Record `order` once per Idempotency-Key. The key is claimed with the body's fingerprint
    first, in a transaction of its own, so a request with another body under it conflicts even
    while the first is being answered; the proposal is then recorded under the source key
    "api:<integration id>:<key>", so a twin sent meanwhile, or a retry after a crash between
    the two, finds that proposal instead of making another; the answer is kept last.
    ProductRefused passes through, and the claim is given up: nothing was recorded."""
    with ctx.sessions.begin() as session:
        claimed = _claim(session, caller, key=key, fingerprint=fingerprint, now=ctx.clock())
    if claimed is not None:
        return claimed
    source_key = f"api:{caller.id}:{key}"
    try:
        answer = propose_from_product(ctx, order, source_key=source_key)
    except ProductRefused:
        with ctx.sessions.begin() as session:
            # Given up only if nothing was recorded under it: a twin's proposal keeps its key.
            if queries.proposal_by_source_key(session, key=source_key) is None:
                queries.release_key(session, integration_id=caller.id, key=key, fingerprint=fingerprint)
        raise
    status_code, body = render(answer)
    with ctx.sessions.begin() as session:
        queries.record_answer(session, integration_id=caller.id, key=key, status_code=status_code, body=body)
        kept = queries.answer_under(session, integration_id=caller.id, key=key)
    if kept is None or kept.status_code is None or kept.body is None:  # unclaimed (see _claim)
        return Answered(status_code, body, replayed=False)
    # When a twin answered first, both give its answer (for the same proposal).
    return Answered(kept.status_code, kept.body, replayed=False)


def _claim(
    session: Session, caller: Caller, *, key: str, fingerprint: str, now: datetime
) -> Answered | KeyConflict | None:
    """None when this request may go on to record the proposal."""
    try:
        with session.begin_nested():
            queries.claim_key(session, integration_id=caller.id, key=key, fingerprint=fingerprint, now=now)
        return None
    except IntegrityError:
        pass
    existing = queries.answer_under(session, integration_id=caller.id, key=key)
    if existing is None:  # claimed and given up meanwhile: this one may go on, unclaimed
        return None
    if existing.fingerprint != fingerprint:
        return KeyConflict()
    if existing.status_code is None or existing.body is None:
        return None  # being answered now, or its request died: the source key makes nothing twice
    return Answered(existing.status_code, existing.body, replayed=True)


def made_by(ctx: Context, caller: Caller, proposal_id: int) -> bool:
    """Whether the caller's integration recorded the proposal (its source key says so)."""
    with db.reading(ctx.sessions) as session:
        key = queries.source_key_of(session, proposal_id=proposal_id)
    return key is not None and key.startswith(f"api:{caller.id}:")
