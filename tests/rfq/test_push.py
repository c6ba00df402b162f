"""Clients load a snapshot, then apply pushes (static/js/rfq-ladder-state.js): every push of
an RFQ, applied in order to an older snapshot, gives the fresh snapshot of that moment,
through the configured channel layer (Redis in CI), both by the rules of rfq.push (here in
Python) and by the browser's own code (run under Node). Numbers rise by one per push and a
snapshot carries the number of the last push it holds."""

import asyncio
import contextlib
import json
import shutil
import subprocess
import time
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import transaction

from marketdata.selectors import snapshot_key
from rfq import push, selectors, services
from rfq.domain import ladder as ladder_domain
from tests.rfq.conftest import at

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 10
LADDER_STATE_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "rfq-ladder-state.js"


def ordered(rows: list[dict], *, side: str, mid: str | None, as_of: str) -> list[dict]:
    """The client's rows ordered and aged at `as_of` as rfq.domain.ladder does."""
    quotes = [
        ladder_domain.LadderQuote(
            id=r["quote"],
            provider=r["provider"],
            bid=None if side == "BUY" else D(r["price"]),
            ask=D(r["price"]) if side == "BUY" else None,
            size=D(r["size"]),
            received_at=datetime.fromisoformat(r["received_at"]).timestamp(),
            valid_until=datetime.fromisoformat(r["valid_until"]).timestamp(),
        )
        for r in rows
    ]
    now = datetime.fromisoformat(as_of).timestamp()
    ladder = ladder_domain.ladder(quotes, client_side=side, mid=None if mid is None else D(mid), now=now)
    by_id = {r["quote"]: r for r in rows}
    return [
        {
            **by_id[row.quote],
            "price": str(row.price),
            "time_left": row.time_left,
            "bps_from_mid": None if row.bps_from_mid is None else str(row.bps_from_mid),
        }
        for row in ladder
    ]


def apply(state: dict, message: dict) -> dict:
    """What the browser does with a push (rfq.push): replace the fields it carries, and apply
    the ladder's delta when it has one."""
    assert message["seq"] == state["seq"] + 1 == message["rfq"]["seq"]
    new = {**state, **message["rfq"]}
    delta = message.get("delta")
    if delta is None:
        return new
    gone = set(delta["remove"]) | {r["quote"] for r in delta["add"]}
    rows = [r for r in state["ladder"] if r["quote"] not in gone] + delta["add"]
    new["ladder"] = ordered(rows, side=new["side"], mid=new["mid"], as_of=new["as_of"])
    answered = {c["name"]: c for c in delta["counterparties"]}
    new["counterparties"] = [answered.get(c["name"], c) for c in state["counterparties"]]
    return new


def apply_in_node(state: dict, messages: list[dict], tmp_path: Path) -> list[dict]:
    """The browser's applyPush, run under Node on the same pushes: the state after each."""
    module = tmp_path / "rfq-ladder-state.mjs"
    module.write_text(LADDER_STATE_JS.read_text())
    runner = tmp_path / "run.mjs"
    runner.write_text(
        "import { applyPush } from './rfq-ladder-state.mjs';\n"
        "import { readFileSync } from 'node:fs';\n"
        "let { state, messages } = JSON.parse(readFileSync(0, 'utf8'));\n"
        "const out = messages.map((m) => (state = applyPush(state, m)));\n"
        "process.stdout.write(JSON.stringify(out));\n"
    )
    done = subprocess.run(
        ["node", str(runner)], input=json.dumps({"state": state, "messages": messages}), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@contextlib.asynccontextmanager
async def listening(rfq_id: int):
    """A channel in the RFQ's group, as a websocket consumer has, left again whatever happens."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(push.group_of(rfq_id), channel)
    try:
        yield layer, channel
    finally:
        await layer.group_discard(push.group_of(rfq_id), channel)


async def next_push(layer, channel: str, after: int) -> dict:
    """The next push numbered above `after` (the dissemination's may still be on its way)."""
    while True:
        event = await asyncio.wait_for(layer.receive(channel), TIMEOUT)
        if event["message"]["seq"] > after:
            return event["message"]


@database_sync_to_async
def sent_rfq(trader, order):
    # Sent in the transaction that opens it: a worker running for other tests then finds it
    # sent, and no simulated provider quotes into this test.
    with transaction.atomic():
        rfq = services.rfq_open(actor=trader, order_id=order.pk, now=at(0))
        services.rfq_disseminate(rfq_id=rfq.pk, now=at(0))
    return rfq


async def pushes_and_snapshots(trader, order) -> tuple[dict, list[tuple[float, dict, dict]]]:
    """A sent RFQ through every kind of change: its first snapshot, then for each change its
    time, its push and the fresh snapshot after it."""
    rfq = await sent_rfq(trader, order)
    invitation = dict(await database_sync_to_async(list)(rfq.invitations.values_list("counterparty__name", "pk")))
    async with listening(rfq.pk) as (layer, channel):
        snapshot = database_sync_to_async(selectors.rfq_snapshot)
        state = await snapshot(rfq.pk, now=at(0))
        assert state["seq"] == 1  # the dissemination's push

        def offer(name, ask, validity):
            def run(t):
                return services.quote_submit(
                    invitation_id=invitation[name],
                    bid=None,
                    ask=D(ask),
                    size=D("10000"),
                    validity_seconds=validity,
                    now=at(t),
                )

            return run

        def mid_moved_then(change):
            def run(t):
                cache.set(snapshot_key("AAPL"), {"mid": "190.02", "published_at": time.time()})
                return change(t)

            return run

        def last_look_rejected(t):
            cache.set(snapshot_key("AAPL"), {"mid": "190.50", "published_at": time.time()})  # Apex is now 29 bps off
            apex = rfq.quotes.get(counterparty__name="Apex Markets", status="LIVE")
            assert not services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=apex.pk, now=at(t)).accepted

        def executed(t):
            birch = rfq.quotes.get(counterparty__name="Birch Capital", status="LIVE")
            assert services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=birch.pk, now=at(t)).accepted

        steps = [
            # (seconds, change, pushed as a ladder patch rather than a whole snapshot)
            (1.0, offer("Apex Markets", "190.10", 5), True),
            (1.5, offer("Birch Capital", "190.60", 8), True),
            (2.0, offer("Apex Markets", "190.05", 5), True),  # an update replaces Apex's quote
            (2.5, lambda t: services.invitation_pass(invitation_id=invitation["Dune Liquidity"], now=at(t)), True),
            (3.0, offer("Cobalt Trading", "190.30", 1), True),  # valid until 4 s
            (3.5, mid_moved_then(offer("Ember Securities", "190.40", 5)), True),  # every row's bps recomputed
            (4.5, lambda t: services.quote_withdraw(invitation_id=invitation["Ember Securities"], now=at(t)), True),
            (5.0, last_look_rejected, False),
            (5.5, executed, False),
        ]
        first, seq, recorded = state, state["seq"], []
        for seconds, change, patch in steps:
            await database_sync_to_async(change)(seconds)
            message = await next_push(layer, channel, after=seq)
            seq = message["seq"]
            # A delta (no ladder, no terms) for the pushes that come by the hundred.
            assert ("delta" in message) is patch and ("legs" not in message["rfq"]) is patch
            assert ("ladder" not in message["rfq"]) is patch
            recorded.append((seconds, message, await snapshot(rfq.pk, now=at(seconds))))
    return first, recorded


async def test_applying_the_pushes_to_an_old_snapshot_gives_the_fresh_snapshot(trader, order, counterparties):
    state, recorded = await pushes_and_snapshots(trader, order)
    for seconds, message, fresh in recorded:
        state = apply(state, message)
        assert state == fresh, f"after the change at {seconds} s"

    # The ladder went through every case: an update, a pass, an expiry, a withdrawal, last look.
    assert state["status"] == "EXECUTED" and state["execution"]["provider"] == "Birch Capital"
    assert [r["provider"] for r in state["rejections"]] == ["Apex Markets"]
    assert {c["name"]: c["passed"] for c in state["counterparties"]}["Dune Liquidity"] is True
    # Before the last look: the expired Cobalt quote and the withdrawn Ember one left the ladder.
    before_last_look = recorded[-3][2]
    assert [r["provider"] for r in before_last_look["ladder"]] == ["Apex Markets", "Birch Capital"]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
async def test_the_browsers_code_applies_the_pushes_to_the_fresh_snapshot(trader, order, counterparties, tmp_path):
    first, recorded = await pushes_and_snapshots(trader, order)
    states = apply_in_node(first, [message for _, message, _ in recorded], tmp_path)
    for (seconds, _, fresh), state in zip(recorded, states, strict=True):
        assert state == fresh, f"after the change at {seconds} s"


async def test_a_rolled_back_change_pushes_nothing_and_keeps_the_number(trader, order, counterparties):
    rfq = await sent_rfq(trader, order)
    async with listening(rfq.pk) as (layer, channel):
        apex = await database_sync_to_async(rfq.invitations.get)(counterparty__name="Apex Markets")

        class Abort(Exception):
            pass

        @database_sync_to_async
        def rolled_back_then_kept():
            with pytest.raises(Abort), transaction.atomic():
                services.quote_submit(
                    invitation_id=apex.pk, bid=None, ask=D("190.10"), size=D("1"), validity_seconds=5, now=at(1)
                )
                raise Abort
            return services.quote_submit(
                invitation_id=apex.pk, bid=None, ask=D("190.20"), size=D("1"), validity_seconds=5, now=at(2)
            )

        kept = await rolled_back_then_kept()
        message = await next_push(layer, channel, after=1)
        # The first push after the dissemination is the kept quote's, numbered 2: the rolled-back
        # one sent nothing and its number went with it.
        assert message["seq"] == 2 and [r["quote"] for r in message["delta"]["add"]] == [kept.pk]
        assert message["delta"]["remove"] == []  # the rolled-back quote never existed
        assert (await database_sync_to_async(selectors.rfq_snapshot)(rfq.pk))["seq"] == 2
