"""Liquidity providers over FIX: a counterparty whose connection is `fix:<its CompID>` is asked
and answers over a FIX session owned by `run_fix_venue` (fix.venue), not by a simulated
profile in process. The RFQ's services stay as they are for both kinds; this is the edge:

- dissemination publishes a QuoteRequest for the session process (after commit); the LP's
  Quote (S), QuoteCancel (Z) and QuoteRequestReject (AG) come back through the same services
  as a simulated provider's (quote_submit, quote_withdraw, invitation_pass);
- execution is the provider's answer to a NewOrderSingle with OrdType D (previously quoted)
  and the QuoteID (117), linked to its ExecutionReport by ClOrdID: `FixProvider.last_look`
  sends it and waits for the report (filled: executed; rejected or no answer: last look refused).
"""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.db import transaction

from core.streams import streams

PREFIX = "fix:"
RFQ_FIX_REQUESTS = "rfq.fix.requests"
REPLY_PREFIX = "rfq.fix.reply."


def is_fix(connection: str) -> bool:
    return (connection or "").startswith(PREFIX)


def comp_id(connection: str) -> str:
    return connection[len(PREFIX) :]


def quote_request_send(*, connection: str, token: str, invitation_id: int, message: dict) -> None:
    """The QuoteRequest for one invitation, published once the dissemination commits."""
    leg = message["legs"][0]
    request = {
        "type": "R",
        "lp": comp_id(connection),
        "quote_req_id": token,
        "invitation_id": invitation_id,
        "symbol": leg["instrument"],
        "side": message.get("side"),
        "quantity": message["quantity"],
        "window_seconds": message["respond_within_seconds"],
    }
    transaction.on_commit(lambda: streams().publish(RFQ_FIX_REQUESTS, request), robust=True)


class FixProvider:
    """The last look of a FIX provider: its answer to the execution order."""

    def __init__(self, connection: str, *, token: str, symbol: str, quantity, cl_ord_id: str):
        self.lp, self.token, self.symbol, self.quantity, self.cl_ord_id = (
            comp_id(connection),
            token,
            symbol,
            quantity,
            cl_ord_id,
        )

    def last_look(self, *, key: str, client_side: str, quoted_price: float, mid_now: float) -> bool:
        import redis

        reply = f"{REPLY_PREFIX}{self.cl_ord_id}.{secrets.token_hex(4)}"
        streams().publish(
            RFQ_FIX_REQUESTS,
            {
                "type": "D",
                "lp": self.lp,
                "quote_req_id": self.token,
                "cl_ord_id": self.cl_ord_id,
                "symbol": self.symbol,
                "side": client_side,
                "quantity": str(self.quantity),
                "price": repr(quoted_price),
                "reply": reply,
            },
        )
        client = redis.Redis.from_url(settings.STREAMS_URL or settings.REDIS_URL, decode_responses=True)
        try:
            answer = client.blpop([reply], timeout=float(getattr(settings, "RFQ_FIX_EXECUTE_TIMEOUT", 5.0)))
        finally:
            client.close()
        if answer is None:
            return False  # no report in time: as a refusal (the provider's late fill is for review)
        return bool(json.loads(answer[1]).get("filled"))
