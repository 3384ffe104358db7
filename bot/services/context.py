"""What every use case is given: the policy, the roster, the database, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.core.authority import Roster
from bot.core.policy import Policy
from bot.group_commit import GroupCommit
from bot.metrics import Metrics
from storage import queries


@dataclass(frozen=True)
class Context:
    policy: Policy
    roster: Callable[[], Roster]
    sessions: sessionmaker[Session]
    clock: Clock
    wake_sender: Callable[[], None] = lambda: None
    metrics: Metrics = field(default_factory=Metrics)
    # Grants within the agent's own authority that arrive together are written together; None
    # for one that, with what its case already has, no longer fits (see services.proposing).
    alone_grants: GroupCommit[queries.NewProposal, int | None] = field(
        default_factory=lambda: GroupCommit(alone_on=(IntegrityError, DataError))
    )
