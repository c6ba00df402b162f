"""rfq.intake and rfq.services.quotes_submit on PostgreSQL: quotes of one RFQ that arrive while
its previous batch is being written go together in the next (one transaction, one push), a
provider's update behind its quote waits for the next batch, a refused answer fails alone,
and each quote keeps its own arrival time, audit rows and first-answer time.

A batch is held in flight deterministically: the test holds the RFQ's row lock in a
transaction of its own and waits until the intake's batch is seen waiting on that lock."""

import contextlib
import threading
import time
from datetime import timedelta
from decimal import Decimal as D

import pytest
from channels.db import database_sync_to_async
from django.db import connection, transaction

from core.errors import DomainError
from rfq import services
from rfq.intake import QuoteIntake
from rfq.models import Invitation, Quote, Rfq, RfqEvent
from tests.conftest import postgres_only
from tests.rfq.test_push import listening, next_push

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]
TIMEOUT = 20


@pytest.fixture
def rfq(trader, order, counterparties):
    # Sent in the transaction that opens it: no worker's simulated provider quotes into it.
    with transaction.atomic():
        rfq = services.rfq_open(actor=trader, order_id=order.pk)
        services.rfq_disseminate(rfq_id=rfq.pk)
    rfq.refresh_from_db()
    return rfq


@pytest.fixture
def intake():
    intake = QuoteIntake(workers=2)
    yield intake
    intake.close()


def invitation(rfq, name) -> int:
    return rfq.invitations.get(counterparty__name=name).pk


def answer(rfq, name, ask, *, size="10000", seconds=0.0):
    return services.Answer(invitation(rfq, name), None, D(ask), D(size), 60, rfq.sent_at + timedelta(seconds=seconds))


def lock_waiters() -> int:
    with connection.cursor() as c:
        c.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return c.fetchone()[0]


@contextlib.contextmanager
def rfq_locked(rfq_id: int):
    """The RFQ's row lock held by another connection until the block ends; `wait()` returns
    once a batch waits on it."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Rfq.objects.select_for_update().get(pk=rfq_id)
                locked.set()
                release.wait(TIMEOUT)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(TIMEOUT)

    def wait(count=1):
        deadline = time.monotonic() + TIMEOUT
        while lock_waiters() < count:
            assert time.monotonic() < deadline, "no batch came to wait on the RFQ's lock"
            time.sleep(0.01)

    try:
        yield wait
    finally:
        release.set()
        holder.join(TIMEOUT)


def test_quotes_arriving_during_a_batch_go_together_in_the_next(rfq, intake):
    with rfq_locked(rfq.pk) as wait:
        first = intake.submit(rfq.pk, answer(rfq, "Apex Markets", "190.10", seconds=0.1))
        wait()  # its batch is in flight, waiting on the lock
        later = [
            intake.submit(rfq.pk, answer(rfq, "Birch Capital", "190.05", seconds=0.2)),
            intake.submit(rfq.pk, answer(rfq, "Cobalt Trading", "190.20", seconds=0.3)),
        ]
    a, b, c = first.result(TIMEOUT), *(f.result(TIMEOUT) for f in later)
    assert (a.batch, b.batch, c.batch) == (1, 2, 2)
    assert b.started == c.started and b.committed == c.committed
    # Each quote keeps its own arrival time, audit row and first-answer time.
    quotes = {q.counterparty.name: q for q in Quote.objects.filter(rfq=rfq).select_related("counterparty")}
    assert {n: q.received_at for n, q in quotes.items()} == {
        "Apex Markets": rfq.sent_at + timedelta(seconds=0.1),
        "Birch Capital": rfq.sent_at + timedelta(seconds=0.2),
        "Cobalt Trading": rfq.sent_at + timedelta(seconds=0.3),
    }
    assert {q.status for q in quotes.values()} == {"LIVE"}
    received = RfqEvent.objects.filter(rfq=rfq, event="QUOTE_RECEIVE").values_list("quote_id", "at")
    assert dict(received) == {q.pk: q.received_at for q in quotes.values()}
    assert dict(Invitation.objects.filter(rfq=rfq, quotes__isnull=False).values_list("pk", "first_response_at")) == {
        q.invitation_id: q.received_at for q in quotes.values()
    }
    rfq.refresh_from_db()
    assert (rfq.status, rfq.seq) == ("QUOTING", 3)  # the dissemination's push, then one per batch
    assert RfqEvent.objects.filter(rfq=rfq, event="QUOTE").values_list("reason", flat=True).get() == (
        f"quote {quotes['Apex Markets'].pk}"
    )


def test_an_update_behind_its_quote_waits_for_the_next_batch(rfq, intake):
    with rfq_locked(rfq.pk) as wait:
        blocker = intake.submit(rfq.pk, answer(rfq, "Dune Liquidity", "190.30", seconds=0.1))
        wait()
        apex_quote = intake.submit(rfq.pk, answer(rfq, "Apex Markets", "190.10", seconds=0.2))
        apex_update = intake.submit(rfq.pk, answer(rfq, "Apex Markets", "190.08", seconds=0.3))
        birch = intake.submit(rfq.pk, answer(rfq, "Birch Capital", "190.05", seconds=0.4))
    receipts = [f.result(TIMEOUT) for f in (blocker, apex_quote, apex_update, birch)]
    assert [r.batch for r in receipts] == [1, 2, 1, 2]
    assert receipts[1].started == receipts[3].started < receipts[2].started
    old, new = receipts[1].quote, receipts[2].quote
    old.refresh_from_db()
    assert (old.status, new.replaces_id, new.status) == ("REPLACED", old.pk, "LIVE")
    events = RfqEvent.objects.filter(quote=old).values_list("event", "from_status", "to_status")
    assert list(events) == [("QUOTE_RECEIVE", "", "LIVE"), ("QUOTE_REPLACE", "LIVE", "REPLACED")]
    assert Quote.objects.filter(invitation_id=old.invitation_id, status="LIVE").get() == new


def test_a_refused_answer_fails_alone(rfq, intake):
    with rfq_locked(rfq.pk) as wait:
        blocker = intake.submit(rfq.pk, answer(rfq, "Dune Liquidity", "190.30"))
        wait()
        bad = intake.submit(rfq.pk, answer(rfq, "Apex Markets", "190.10", size="0"))
        good = intake.submit(rfq.pk, answer(rfq, "Birch Capital", "190.05"))
    assert blocker.result(TIMEOUT).quote is not None
    with pytest.raises(DomainError, match="positive size"):
        bad.result(TIMEOUT)
    assert good.result(TIMEOUT).quote.counterparty.name == "Birch Capital"
    assert not Quote.objects.filter(rfq=rfq, counterparty__name="Apex Markets").exists()


def test_a_late_answer_is_ignored_the_others_taken(rfq):
    late = answer(rfq, "Apex Markets", "190.10", seconds=rfq.window_seconds)  # at the window's end
    kept = answer(rfq, "Birch Capital", "190.05", seconds=1)
    assert [q and q.counterparty_id for q in services.quotes_submit(answers=[late, kept])] == [
        None,
        Invitation.objects.get(pk=kept.invitation_id).counterparty_id,
    ]
    assert Invitation.objects.get(pk=late.invitation_id).first_response_at is None


def test_answers_of_two_rfqs_or_twice_one_provider_are_refused(rfq, trader, pm, portfolio, aapl):
    from oms.services import order_submit

    other_order = order_submit(
        actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D("10"), urgency="LOW"
    )
    with transaction.atomic():
        other = services.rfq_open(actor=trader, order_id=other_order.pk)
        services.rfq_disseminate(rfq_id=other.pk)
    other.refresh_from_db()
    with pytest.raises(DomainError, match="one RFQ"):
        services.quotes_submit(answers=[answer(rfq, "Apex Markets", "190.1"), answer(other, "Birch Capital", "190")])
    with pytest.raises(DomainError, match="one answer per invitation"):
        services.quotes_submit(answers=[answer(rfq, "Apex Markets", "190.1"), answer(rfq, "Apex Markets", "190")])
    assert not Quote.objects.exists()


async def test_quotes_of_every_kind_in_one_batch_push_one_delta(rfq):
    """A first quote, an update and another first quote in one call: one push whose delta adds
    the three rows, removes the replaced quote and marks the two first answers."""
    submit = database_sync_to_async(lambda answers: services.quotes_submit(answers=answers))
    answers = database_sync_to_async(lambda *args: [answer(rfq, *a[:2], seconds=a[2]) for a in args])
    (apex,) = await submit(await answers(("Apex Markets", "190.10", 0.1)))
    async with listening(rfq.pk) as (layer, channel):
        birch, apex2, cobalt = await submit(
            await answers(
                ("Birch Capital", "190.05", 0.3), ("Apex Markets", "190.02", 0.2), ("Cobalt Trading", "190.20", 0.4)
            )
        )
        message = await next_push(layer, channel, after=2)
    assert apex2.replaces_id == apex.pk
    assert message["seq"] == 3
    assert [r["quote"] for r in message["delta"]["add"]] == [apex2.pk, birch.pk, cobalt.pk]  # best first
    assert message["delta"]["remove"] == [apex.pk]
    assert message["delta"]["counterparties"] == [
        {"name": "Birch Capital", "responded": True, "passed": False},
        {"name": "Cobalt Trading", "responded": True, "passed": False},
    ]


def test_the_intake_leaves_no_answer_behind_across_many_rfq_batches(rfq, intake):
    """Every answer submitted at once (a burst) ends in exactly one quote, the last of each
    provider live."""
    names = ["Apex Markets", "Birch Capital", "Cobalt Trading", "Dune Liquidity", "Ember Securities"]
    futures = [
        intake.submit(rfq.pk, answer(rfq, name, f"190.{10 + n}", seconds=0.01 * (n * 5 + k)))
        for n in range(4)
        for k, name in enumerate(names)
    ]
    receipts = [f.result(TIMEOUT) for f in futures]
    assert len({r.quote.pk for r in receipts}) == 20 == Quote.objects.filter(rfq=rfq).count()
    live = Quote.objects.filter(rfq=rfq, status="LIVE")
    assert sorted(live.values_list("ask", flat=True)) == [D("190.13")] * 5
    rfq.refresh_from_db()
    assert rfq.seq == 1 + len({r.started for r in receipts})  # one push per batch
