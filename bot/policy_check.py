"""`python -m bot check-policy`: the file checked, and the limits in force, which are the
file's with the changes leads made in Leeway (read from DATABASE_URL when it has any)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.core.limits import Overrides, effective
from bot.core.policy import FUNNEL, GRANTING_TIERS, TIER_WORDS, Policy
from storage import db
from storage.queries.limits import limit_overrides


def limits_in_force(policy: Policy, overrides: Overrides) -> list[str]:
    """One line per remedy: each limit in force, and where a lead changed it, the file's figure."""
    applied = effective(policy, overrides)
    lines = []
    for file_remedy, remedy in zip(policy.remedies, applied.remedies, strict=True):
        parts = []
        # The customer's own tier where the remedy has one (or a lead set one).
        has_customer = remedy.customer_up_to > 0 or file_remedy.customer_up_to > 0
        for tier in FUNNEL if has_customer else GRANTING_TIERS:
            limit = remedy.limit(tier)
            shown = f"up to {applied.format_amount(remedy, limit)}" if limit > 0 else "—"
            if limit != file_remedy.limit(tier):
                shown += f" (changed by a lead; the file says {policy.format_amount(remedy, file_remedy.limit(tier))})"
            parts.append(f"{TIER_WORDS[tier]} {shown}")
        lines.append(f"  {remedy.id}: " + ", ".join(parts))
    return lines


def read_overrides(database_url: str) -> tuple[Overrides, str | None]:
    """The leads' changes in the database, or none and why they could not be read. A SQLite file
    that isn't there yet has none (and is not created by looking)."""
    url = make_url(db.normalize_url(database_url))
    is_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if is_file and not Path(str(url.database)).exists():
        return {}, None
    engine = db.make_engine(database_url)
    try:
        with db.reading(db.make_sessions(engine)) as session:
            return limit_overrides(session)[0], None
    except SQLAlchemyError as error:
        return {}, f"limit changes not read from the database ({type(error).__name__}); showing the file's limits"
    finally:
        engine.dispose()
