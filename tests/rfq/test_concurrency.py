"""An RFQ executes at most once under concurrent requests, on PostgreSQL (row locks)."""

import threading
from decimal import Decimal as D

import pytest
from django.db import connection, transaction

from core.errors import Conflict
from oms.models import Order, OrderFill
from rfq import services
from rfq.models import RfqExecution
from tests.conftest import postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def test_concurrent_clicks_execute_once(trader, order, counterparties):
    with transaction.atomic():  # sent here: no worker's simulated provider quotes into this test
        rfq = services.rfq_open(actor=trader, order_id=order.pk)
        services.rfq_disseminate(rfq_id=rfq.pk)
    quotes = []
    for name, ask in [("Apex Markets", "190.05"), ("Birch Capital", "190.07"), ("Cobalt Trading", "190.09")]:
        inv = rfq.invitations.get(counterparty__name=name)
        quotes.append(
            services.quote_submit(invitation_id=inv.pk, bid=None, ask=D(ask), size=D("10000"), validity_seconds=60)
        )
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def click(quote_id):
        try:
            barrier.wait()
            result = services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=quote_id)
            outcomes.append("accepted" if result.accepted else "rejected")
        except Conflict:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(quotes[i % 3].pk,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["accepted"] + ["refused"] * 7
    assert RfqExecution.objects.filter(rfq=rfq).count() == 1
    assert OrderFill.objects.filter(order=order).count() == 1
    o = Order.objects.get(pk=order.pk)
    assert (o.status, o.filled_quantity) == ("FILLED", D("10000"))
