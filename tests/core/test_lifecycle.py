import pytest

from bot.core.lifecycle import Event, Status, sources, target

ALLOWED = {
    (Status.PENDING, Event.GRANTED): Status.GRANTED,
    (Status.PENDING, Event.DECLINED): Status.DECLINED,
    (Status.PENDING, Event.EXPIRED): Status.EXPIRED,
    (Status.PENDING, Event.WITHDRAWN): Status.WITHDRAWN,
}
TRANSITION_EVENTS = sorted({event for _, event in ALLOWED})


@pytest.mark.parametrize(("status", "event"), [(s, e) for s in Status for e in Event])
def test_every_transition_is_either_allowed_or_refused(status: Status, event: Event) -> None:
    if (status, event) in ALLOWED:
        assert status in sources(event)
        assert target(event) is ALLOWED[(status, event)]
    else:
        assert status not in sources(event)


def test_every_end_state_is_final() -> None:
    final = frozenset(s for s in Status if not any(s in sources(e) for e in Event))
    assert frozenset({Status.GRANTED, Status.DECLINED, Status.EXPIRED, Status.WITHDRAWN}) == final


@pytest.mark.parametrize("event", TRANSITION_EVENTS)
def test_conditional_update_only_leaves_pending(event: Event) -> None:
    assert sources(event) == {Status.PENDING}
    assert target(event) is ALLOWED[(Status.PENDING, event)]


@pytest.mark.parametrize("event", [e for e in Event if e not in TRANSITION_EVENTS])
def test_history_only_events_are_no_transition(event: Event) -> None:
    assert sources(event) == frozenset()
    with pytest.raises(ValueError, match="not a transition"):
        target(event)


def test_a_transition_is_spelled_as_the_status_it_reaches() -> None:
    assert all(str(event) == str(status) for (_, event), status in ALLOWED.items())
