"""The RFQ and quote state tables: every (state, event) pair, legal or refused."""

import pytest

from core.errors import IllegalTransition
from core.vocabulary import QuoteEventType as QuoteEvent
from core.vocabulary import QuoteStatus, RfqStatus
from core.vocabulary import RfqEventType as RfqEvent
from core.vocabulary import RfqOutcome as Outcome
from rfq.domain import states as s

RFQ_EXPECTED = {
    (RfqStatus.DRAFT, RfqEvent.SEND): RfqStatus.SENT,
    (RfqStatus.DRAFT, RfqEvent.CANCEL): RfqStatus.CANCELLED,
    (RfqStatus.SENT, RfqEvent.QUOTE): RfqStatus.QUOTING,
    (RfqStatus.SENT, RfqEvent.EXPIRE): RfqStatus.EXPIRED,
    (RfqStatus.SENT, RfqEvent.CANCEL): RfqStatus.CANCELLED,
    (RfqStatus.QUOTING, RfqEvent.QUOTE): RfqStatus.QUOTING,
    (RfqStatus.QUOTING, RfqEvent.LAST_LOOK_REJECT): RfqStatus.QUOTING,
    (RfqStatus.QUOTING, RfqEvent.EXECUTE): RfqStatus.EXECUTED,
    (RfqStatus.QUOTING, RfqEvent.EXPIRE): RfqStatus.EXPIRED,
    (RfqStatus.QUOTING, RfqEvent.CANCEL): RfqStatus.CANCELLED,
}
QUOTE_EXPECTED = {
    ("", QuoteEvent.RECEIVE): QuoteStatus.LIVE,
    (QuoteStatus.LIVE, QuoteEvent.REPLACE): QuoteStatus.REPLACED,
    (QuoteStatus.LIVE, QuoteEvent.WITHDRAW): QuoteStatus.WITHDRAWN,
    (QuoteStatus.LIVE, QuoteEvent.EXPIRE): QuoteStatus.EXPIRED,
    (QuoteStatus.LIVE, QuoteEvent.EXECUTE): QuoteStatus.EXECUTED,
    (QuoteStatus.LIVE, QuoteEvent.LAST_LOOK_REJECT): QuoteStatus.REJECTED,
    (QuoteStatus.LIVE, QuoteEvent.CLOSE): QuoteStatus.CLOSED,
}


@pytest.mark.parametrize("status", ["", *RfqStatus])
@pytest.mark.parametrize("event", list(RfqEvent))
def test_every_rfq_pair(status, event):
    expected = RFQ_EXPECTED.get((status, event))
    if expected is None:
        with pytest.raises(IllegalTransition) as e:
            s.apply_rfq(status, event)
        assert e.value.aggregate == "request for quote" and e.value.event == event
    else:
        assert s.apply_rfq(status, event) == expected


@pytest.mark.parametrize("status", ["", *QuoteStatus])
@pytest.mark.parametrize("event", list(QuoteEvent))
def test_every_quote_pair(status, event):
    expected = QUOTE_EXPECTED.get((status, event))
    if expected is None:
        with pytest.raises(IllegalTransition):
            s.apply_quote(status, event)
    else:
        assert s.apply_quote(status, event) == expected


def test_the_tables_are_exactly_the_expected_ones():
    assert s.RFQ_TRANSITIONS == RFQ_EXPECTED and s.QUOTE_TRANSITIONS == QUOTE_EXPECTED


def test_an_executed_rfq_cannot_execute_again():
    with pytest.raises(IllegalTransition, match="cannot EXECUTE a request for quote that is EXECUTED"):
        s.apply_rfq(RfqStatus.EXECUTED, RfqEvent.EXECUTE)


@pytest.mark.parametrize(
    ("status", "quotes", "rejected", "expected"),
    [
        (RfqStatus.EXECUTED, 3, False, Outcome.FILLED),
        (RfqStatus.CANCELLED, 0, False, Outcome.CANCELLED),
        (RfqStatus.EXPIRED, 2, False, Outcome.EXPIRED),
        (RfqStatus.EXPIRED, 0, False, Outcome.NO_QUOTES),
        (RfqStatus.QUOTING, 2, True, Outcome.LAST_LOOK_REJECTED),
        (RfqStatus.QUOTING, 2, False, Outcome.PENDING),
        (RfqStatus.SENT, 0, False, Outcome.PENDING),
    ],
)
def test_outcome(status, quotes, rejected, expected):
    assert s.outcome(status, quotes_received=quotes, last_attempt_rejected=rejected) == expected


def test_a_quote_is_live_until_its_validity_ends():
    assert s.is_live(QuoteStatus.LIVE, valid_until=10.0, now=9.99)
    assert not s.is_live(QuoteStatus.LIVE, valid_until=10.0, now=10.0)
    assert not s.is_live(QuoteStatus.WITHDRAWN, valid_until=10.0, now=1.0)
