"""Every (status, event) pair of the parent-order state table, legal and illegal, and the
status a rejected cancel returns to."""

import itertools

import pytest

from core.errors import IllegalTransition
from oms.domain import states
from oms.domain.states import OrderState, apply

EXPECTED = {
    (states.UNSUBMITTED, states.SUBMIT): states.NEW,
    (states.NEW, states.ACCEPT): states.ACCEPTED,
    (states.NEW, states.REJECT): states.REJECTED,
    (states.NEW, states.CANCEL): states.CANCELLED,
    (states.ACCEPTED, states.WORK): states.WORKING,
    (states.ACCEPTED, states.PARTIAL_FILL): states.PARTIALLY_FILLED,
    (states.ACCEPTED, states.FILL): states.FILLED,
    (states.ACCEPTED, states.CANCEL): states.CANCELLED,
    (states.ACCEPTED, states.EXPIRE): states.EXPIRED,
    (states.WORKING, states.PARTIAL_FILL): states.PARTIALLY_FILLED,
    (states.WORKING, states.FILL): states.FILLED,
    (states.WORKING, states.CANCEL_REQUEST): states.CANCEL_PENDING,
    (states.WORKING, states.CANCEL): states.CANCELLED,
    (states.WORKING, states.EXPIRE): states.EXPIRED,
    (states.PARTIALLY_FILLED, states.PARTIAL_FILL): states.PARTIALLY_FILLED,
    (states.PARTIALLY_FILLED, states.FILL): states.FILLED,
    (states.PARTIALLY_FILLED, states.CANCEL_REQUEST): states.CANCEL_PENDING,
    (states.PARTIALLY_FILLED, states.CANCEL): states.CANCELLED,
    (states.PARTIALLY_FILLED, states.EXPIRE): states.EXPIRED,
    # a fill racing the cancel request
    (states.CANCEL_PENDING, states.PARTIAL_FILL): states.CANCEL_PENDING,
    (states.CANCEL_PENDING, states.FILL): states.FILLED,
    (states.CANCEL_PENDING, states.CANCEL): states.CANCELLED,
    (states.CANCEL_PENDING, states.EXPIRE): states.EXPIRED,
    # late fills after the order closed are applied, never lost
    (states.CANCELLED, states.PARTIAL_FILL): states.CANCELLED,
    (states.CANCELLED, states.FILL): states.FILLED,
    (states.EXPIRED, states.PARTIAL_FILL): states.EXPIRED,
    (states.EXPIRED, states.FILL): states.FILLED,
    # an amendment, applied or refused, leaves the status as it was
    (states.ACCEPTED, states.AMEND): states.ACCEPTED,
    (states.WORKING, states.AMEND): states.WORKING,
    (states.PARTIALLY_FILLED, states.AMEND): states.PARTIALLY_FILLED,
    (states.ACCEPTED, states.AMEND_REJECT): states.ACCEPTED,
    (states.WORKING, states.AMEND_REJECT): states.WORKING,
    (states.PARTIALLY_FILLED, states.AMEND_REJECT): states.PARTIALLY_FILLED,
}
PENDING_FROM_WORKING = OrderState(states.CANCEL_PENDING, states.WORKING)
ALL_PAIRS = list(itertools.product((states.UNSUBMITTED, *states.STATUSES), states.EVENTS))


@pytest.mark.parametrize(("status", "event"), ALL_PAIRS)
def test_every_pair(status, event):
    state = PENDING_FROM_WORKING if status == states.CANCEL_PENDING else OrderState(status)
    if (status, event) == (states.CANCEL_PENDING, states.CANCEL_REJECT):
        assert apply(state, event) == OrderState(states.WORKING)
    elif (status, event) in EXPECTED:
        assert apply(state, event).status == EXPECTED[(status, event)]
    else:
        with pytest.raises(IllegalTransition):
            apply(state, event)


def test_table_has_no_pair_the_test_does_not_know():
    assert set(states.TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize("before", [states.WORKING, states.PARTIALLY_FILLED])
def test_a_cancel_request_remembers_the_status_it_left(before):
    assert apply(OrderState(before), states.CANCEL_REQUEST) == OrderState(states.CANCEL_PENDING, before)


def test_a_rejected_cancel_restores_the_status_before_the_request():
    pending = apply(OrderState(states.PARTIALLY_FILLED), states.CANCEL_REQUEST)
    assert apply(pending, states.CANCEL_REJECT) == OrderState(states.PARTIALLY_FILLED)


def test_a_fill_while_pending_moves_the_status_a_rejected_cancel_returns_to():
    pending = apply(apply(OrderState(states.WORKING), states.CANCEL_REQUEST), states.PARTIAL_FILL)
    assert pending == OrderState(states.CANCEL_PENDING, states.PARTIALLY_FILLED)
    assert apply(pending, states.CANCEL_REJECT) == OrderState(states.PARTIALLY_FILLED)


@pytest.mark.parametrize("event", [states.CANCEL, states.EXPIRE, states.FILL])
def test_leaving_cancel_pending_forgets_the_remembered_status(event):
    assert apply(PENDING_FROM_WORKING, event).previous_status == ""


@pytest.mark.parametrize("status", sorted(states.TERMINAL_STATUSES - {states.CANCELLED, states.EXPIRED}))
def test_rejected_and_filled_accept_nothing(status):
    for event in states.EVENTS:
        with pytest.raises(IllegalTransition):
            apply(OrderState(status), event)
