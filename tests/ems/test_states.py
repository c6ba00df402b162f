"""Every (status, event) pair of the execution and child-order state tables."""

import itertools

import pytest

from core.errors import IllegalTransition
from ems.domain import states as s
from ems.domain.states import ChildState, apply_child, apply_execution

E = s.E
EXECUTION_EXPECTED = {
    (s.PENDING, E.START): s.RUNNING,
    (s.PENDING, E.COMPLETE): s.COMPLETING,
    (s.PENDING, E.CANCEL): s.EXEC_CANCELLED,
    (s.PENDING, E.FAIL): s.FAILED,
    (s.RUNNING, E.PAUSE): s.PAUSED,
    (s.RUNNING, E.SWITCH): s.RUNNING,
    (s.PENDING, E.AMEND): s.PENDING,
    (s.RUNNING, E.AMEND): s.RUNNING,
    (s.PAUSED, E.AMEND): s.PAUSED,
    (s.RUNNING, E.COMPLETE): s.COMPLETING,
    (s.RUNNING, E.FINISH): s.DONE,
    (s.RUNNING, E.CANCEL): s.EXEC_CANCELLED,
    (s.RUNNING, E.FAIL): s.FAILED,
    (s.PAUSED, E.RESUME): s.RUNNING,
    (s.PAUSED, E.COMPLETE): s.COMPLETING,
    (s.PAUSED, E.FINISH): s.DONE,
    (s.PAUSED, E.CANCEL): s.EXEC_CANCELLED,
    (s.PAUSED, E.FAIL): s.FAILED,
    (s.COMPLETING, E.FINISH): s.DONE,
    (s.COMPLETING, E.CANCEL): s.EXEC_CANCELLED,
    (s.COMPLETING, E.FAIL): s.FAILED,
}


@pytest.mark.parametrize(("status", "event"), list(itertools.product(s.EXECUTION_STATUSES, s.EXECUTION_EVENTS)))
def test_execution_pair(status, event):
    expected = EXECUTION_EXPECTED.get((status, event))
    if expected is None:
        with pytest.raises(IllegalTransition, match=f"cannot {event} an execution that is {status}"):
            apply_execution(status, event)
    else:
        assert apply_execution(status, event) == expected


def test_terminal_execution_statuses_accept_nothing():
    for status in s.EXECUTION_TERMINAL:
        assert not any((status, event) in s.EXECUTION_TRANSITIONS for event in s.EXECUTION_EVENTS)


C = s.C
CHILD_EXPECTED = {
    (s.NEW, C.SEND): s.SENT,
    (s.NEW, C.ACK): s.ACKED,
    (s.NEW, C.PARTIAL_FILL): s.PARTIALLY_FILLED,
    (s.NEW, C.FILL): s.FILLED,
    (s.NEW, C.REJECT): s.REJECTED,
    (s.NEW, C.CANCEL_REQUEST): s.CANCEL_PENDING,
    (s.NEW, C.CANCEL): s.CANCELLED,
    (s.SENT, C.SEND): s.SENT,
    (s.SENT, C.ACK): s.ACKED,
    (s.SENT, C.PARTIAL_FILL): s.PARTIALLY_FILLED,
    (s.SENT, C.FILL): s.FILLED,
    (s.SENT, C.REJECT): s.REJECTED,
    (s.SENT, C.CANCEL_REQUEST): s.CANCEL_PENDING,
    (s.SENT, C.CANCEL): s.CANCELLED,
    (s.ACKED, C.ACK): s.ACKED,
    (s.ACKED, C.PARTIAL_FILL): s.PARTIALLY_FILLED,
    (s.ACKED, C.FILL): s.FILLED,
    (s.ACKED, C.CANCEL_REQUEST): s.CANCEL_PENDING,
    (s.ACKED, C.CANCEL): s.CANCELLED,
    (s.PARTIALLY_FILLED, C.ACK): s.PARTIALLY_FILLED,
    (s.PARTIALLY_FILLED, C.PARTIAL_FILL): s.PARTIALLY_FILLED,
    (s.PARTIALLY_FILLED, C.FILL): s.FILLED,
    (s.PARTIALLY_FILLED, C.CANCEL_REQUEST): s.CANCEL_PENDING,
    (s.PARTIALLY_FILLED, C.CANCEL): s.CANCELLED,
    (s.CANCEL_PENDING, C.ACK): s.CANCEL_PENDING,
    (s.CANCEL_PENDING, C.PARTIAL_FILL): s.CANCEL_PENDING,
    (s.CANCEL_PENDING, C.FILL): s.FILLED,
    (s.CANCEL_PENDING, C.CANCEL): s.CANCELLED,
    (s.CANCEL_PENDING, C.REJECT): s.REJECTED,
    (s.CANCEL_PENDING, C.CANCEL_REQUEST): s.CANCEL_PENDING,
    (s.CANCEL_PENDING, C.CANCEL_REJECT): s.ACKED,  # the remembered status (see below)
    (s.FILLED, C.ACK): s.FILLED,
    (s.FILLED, C.CANCEL): s.FILLED,
    (s.CANCELLED, C.ACK): s.CANCELLED,
    (s.CANCELLED, C.CANCEL): s.CANCELLED,
    (s.CANCELLED, C.PARTIAL_FILL): s.CANCELLED,
    (s.CANCELLED, C.FILL): s.FILLED,
    (s.REJECTED, C.CANCEL): s.REJECTED,
}


@pytest.mark.parametrize(("status", "event"), list(itertools.product(s.CHILD_STATUSES, s.CHILD_EVENTS)))
def test_child_pair(status, event):
    state = ChildState(status, s.ACKED if status == s.CANCEL_PENDING else "")
    expected = CHILD_EXPECTED.get((status, event))
    if expected is None:
        with pytest.raises(IllegalTransition, match=f"cannot {event} a child order that is {status}"):
            apply_child(state, event)
    else:
        assert apply_child(state, event).status == expected


def test_cancel_request_remembers_the_status_and_a_reject_restores_it():
    pending = apply_child(ChildState(s.ACKED), C.CANCEL_REQUEST)
    assert pending == ChildState(s.CANCEL_PENDING, s.ACKED)
    assert apply_child(pending, C.CANCEL_REJECT) == ChildState(s.ACKED)


def test_a_fill_while_cancel_pending_moves_the_remembered_status():
    pending = apply_child(ChildState(s.SENT), C.CANCEL_REQUEST)
    after_fill = apply_child(pending, C.PARTIAL_FILL)
    assert after_fill == ChildState(s.CANCEL_PENDING, s.PARTIALLY_FILLED)
    assert apply_child(after_fill, C.CANCEL_REJECT) == ChildState(s.PARTIALLY_FILLED)
    assert apply_child(after_fill, C.CANCEL_REQUEST) == after_fill


def test_fill_event_by_quantity():
    from decimal import Decimal as D

    assert s.child_fill_event(D("100"), D("100")) == C.FILL
    assert s.child_fill_event(D("99"), D("100")) == C.PARTIAL_FILL
