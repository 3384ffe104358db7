import pytest

from bot.core.lifecycle import FINAL, Event, InvalidTransition, Status, next_status, sources, target

ALLOWED = {
    (Status.PENDING, Event.GRANT): Status.GRANTED,
    (Status.PENDING, Event.DECLINE): Status.DECLINED,
    (Status.PENDING, Event.EXPIRE): Status.EXPIRED,
    (Status.PENDING, Event.WITHDRAW): Status.WITHDRAWN,
}


@pytest.mark.parametrize(("status", "event"), [(s, e) for s in Status for e in Event])
def test_every_transition_is_either_allowed_or_refused(status: Status, event: Event) -> None:
    if (status, event) in ALLOWED:
        assert next_status(status, event) is ALLOWED[(status, event)]
    else:
        with pytest.raises(InvalidTransition):
            next_status(status, event)


def test_every_end_state_is_final() -> None:
    assert frozenset({Status.GRANTED, Status.DECLINED, Status.EXPIRED, Status.WITHDRAWN}) == FINAL


@pytest.mark.parametrize("event", list(Event))
def test_conditional_update_only_leaves_pending(event: Event) -> None:
    assert sources(event) == {Status.PENDING}
    assert target(event) is ALLOWED[(Status.PENDING, event)]
