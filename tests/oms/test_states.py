"""Every (status, event) pair of the parent-order state table, legal and illegal."""
import itertools

import pytest

from oms.domain import states
from core.errors import IllegalTransition

EXPECTED = {
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
}
ALL_PAIRS = list(itertools.product(states.STATUSES, states.EVENTS))


@pytest.mark.parametrize(("status", "event"), ALL_PAIRS)
def test_every_pair(status, event):
    if (status, event) == (states.CANCEL_PENDING, states.CANCEL_REJECT):
        assert states.transition(status, event, has_fills=False) == states.WORKING
        assert states.transition(status, event, has_fills=True) == states.PARTIALLY_FILLED
    elif (status, event) in EXPECTED:
        assert states.transition(status, event) == EXPECTED[(status, event)]
    else:
        with pytest.raises(IllegalTransition):
            states.transition(status, event)


def test_table_has_no_pair_the_test_does_not_know():
    assert set(states.TRANSITIONS) == set(EXPECTED) | {(states.CANCEL_PENDING, states.CANCEL_REJECT)}


@pytest.mark.parametrize("status", sorted(states.TERMINAL_STATUSES - {states.CANCELLED, states.EXPIRED}))
def test_rejected_and_filled_accept_nothing(status):
    for event in states.EVENTS:
        with pytest.raises(IllegalTransition):
            states.transition(status, event)
