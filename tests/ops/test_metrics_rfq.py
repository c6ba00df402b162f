# ruff: noqa: F811  (pytest fixtures imported from tests.rfq.conftest are parameters here)
"""The RFQ figures on /metrics: RFQs open by status, and each quote's time to its ladder."""

from decimal import Decimal as D

import pytest
from django.test import Client

from rfq import services
from tests.ops.metrics_helpers import scrape
from tests.rfq.conftest import at, counterparties, order  # noqa: F401

pytestmark = pytest.mark.django_db


def test_an_rfq_and_its_quotes_move_rfqs_open_and_quote_to_ladder(trader, order, counterparties):
    client = Client()
    before = scrape(client)
    rfq = services.rfq_open(actor=trader, order_id=order.pk, now=at(0))
    opened = scrape(client)
    assert (
        opened.value("smart_trading_rfqs_open", status="DRAFT")
        == before.value("smart_trading_rfqs_open", status="DRAFT") + 1
    )
    services.rfq_disseminate(rfq_id=rfq.pk, now=at(0))
    invitation = rfq.invitations.order_by("pk").first()
    quote = services.quote_submit(
        invitation_id=invitation.pk, bid=None, ask=D("190.05"), size=D("10000"), validity_seconds=5.0, now=at(1)
    )
    assert quote is not None
    quoted = scrape(client)
    assert quoted.value("smart_trading_rfqs_open", status="QUOTING") == (
        before.value("smart_trading_rfqs_open", status="QUOTING") + 1
    )
    assert sum(quoted.labelled("smart_trading_rfqs_open", "status").values()) == (
        sum(before.labelled("smart_trading_rfqs_open", "status").values()) + 1
    )
    assert quoted.value("smart_trading_rfq_quote_to_ladder_seconds_count") == (
        before.value("smart_trading_rfq_quote_to_ladder_seconds_count") + 1
    )
    # A quote after the window is ignored by the service, and not timed.
    late = services.quote_submit(
        invitation_id=invitation.pk, bid=None, ask=D("190.04"), size=D("10000"), validity_seconds=5.0, now=at(3600)
    )
    assert late is None
    assert scrape(client).value("smart_trading_rfq_quote_to_ladder_seconds_count") == quoted.value(
        "smart_trading_rfq_quote_to_ladder_seconds_count"
    )
    services.rfq_cancel(actor=trader, rfq_id=rfq.pk, now=at(3601))
    assert sum(scrape(client).labelled("smart_trading_rfqs_open", "status").values()) == sum(
        before.labelled("smart_trading_rfqs_open", "status").values()
    )
