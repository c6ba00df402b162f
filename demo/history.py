"""A year (or ten) of desk history in bulk, by SQL: what bench/scale.py grows and the query
guard (tests/core/test_query_plans.py) plans against. Rows as the product writes them: per
order 2 to 5 audit events, 2 fills for a filled one and the routing decision stored at
acceptance, older orders further back in time (one every 20 s). PostgreSQL only."""

import json

# Per bulk order, by g % 20: 60% FILLED, 25% CANCELLED, 10% REJECTED, 5% EXPIRED (history
# holds finished orders; the open ones are the few entered today).
STATUS_OF = (
    "CASE WHEN g % 20 < 12 THEN 'FILLED' WHEN g % 20 < 17 THEN 'CANCELLED' "
    "WHEN g % 20 < 19 THEN 'REJECTED' ELSE 'EXPIRED' END"
)
REJECTION = json.dumps(
    [{"rule": "MAX_ORDER_NOTIONAL", "message": "notional above the limit", "limit": "1000000", "actual": "1000010"}]
)
EVENTS = [
    ("FILLED", 1, "SUBMIT", "", "NEW"),
    ("FILLED", 2, "ACCEPT", "NEW", "ACCEPTED"),
    ("FILLED", 3, "WORK", "ACCEPTED", "WORKING"),
    ("FILLED", 4, "PARTIAL_FILL", "WORKING", "PARTIALLY_FILLED"),
    ("FILLED", 5, "FILL", "PARTIALLY_FILLED", "FILLED"),
    ("CANCELLED", 1, "SUBMIT", "", "NEW"),
    ("CANCELLED", 2, "ACCEPT", "NEW", "ACCEPTED"),
    ("CANCELLED", 3, "WORK", "ACCEPTED", "WORKING"),
    ("CANCELLED", 4, "CANCEL", "WORKING", "CANCELLED"),
    ("REJECTED", 1, "SUBMIT", "", "NEW"),
    ("REJECTED", 2, "REJECT", "NEW", "REJECTED"),
    ("EXPIRED", 1, "SUBMIT", "", "NEW"),
    ("EXPIRED", 2, "ACCEPT", "NEW", "ACCEPTED"),
    ("EXPIRED", 3, "WORK", "ACCEPTED", "WORKING"),
    ("EXPIRED", 4, "EXPIRE", "WORKING", "EXPIRED"),
]


BIG_TABLES = ("oms_order", "oms_orderevent", "oms_orderfill", "sor_routingdecision")


def history_grow(cursor, *, start: int, end: int, portfolios: list[tuple[int, int]], instruments: list[int]) -> dict:
    """Orders g = start+1 .. end of the history (g = 1 is the newest), spread over
    `portfolios` ((id, owner id) pairs) and `instruments` (ids), with their events, fills
    and routing decisions, through a DB-API `cursor` (in the caller's transaction). Returns
    the rows inserted per table; ANALYZE (or VACUUM ANALYZE) is the caller's."""
    pids = "(ARRAY[" + ",".join(str(p) for p, _ in portfolios) + "]::bigint[])"
    owners = "(ARRAY[" + ",".join(str(o) for _, o in portfolios) + "]::bigint[])"
    iids = "(ARRAY[" + ",".join(str(i) for i in instruments) + "]::bigint[])"
    n_p, n_i = len(portfolios), len(instruments)
    cursor.execute("SELECT coalesce(max(id), 0) FROM oms_order")
    first_id = int(cursor.fetchone()[0])
    counts = {}

    def run(sql: str) -> int:
        cursor.execute(sql)
        return cursor.rowcount

    counts["orders"] = run(
        f"""
        INSERT INTO oms_order (portfolio_id, instrument_id, side, quantity, limit_price, urgency,
            status, previous_status, filled_quantity, average_fill_price, arrival_price,
            rejection_reasons, client_order_id, created_by_id, created_at, updated_at)
        SELECT {pids}[1 + g % {n_p}], {iids}[1 + (g / {n_p}) % {n_i}],
            CASE WHEN g % 2 = 0 THEN 'BUY' ELSE 'SELL' END, 100, NULL,
            (ARRAY['LOW','MEDIUM','HIGH'])[1 + g % 3], s.status, '',
            CASE WHEN s.status = 'FILLED' THEN 100 ELSE 0 END,
            CASE WHEN s.status = 'FILLED' THEN 100.05 END, 100,
            CASE WHEN s.status = 'REJECTED' THEN '{REJECTION}'::jsonb
                 ELSE '[]'::jsonb END,
            NULL, {owners}[1 + g % {n_p}],
            now() - interval '1 hour' - g * interval '20 seconds',
            now() - interval '1 hour' - g * interval '20 seconds' + interval '5 minutes'
        FROM generate_series({start + 1}, {end}) AS g
        CROSS JOIN LATERAL (SELECT {STATUS_OF} AS status) s
        ORDER BY g DESC
        """
    )
    values = ",".join(f"('{s}',{k},'{e}','{f}','{t}')" for s, k, e, f, t in EVENTS)
    counts["events"] = run(
        f"""
        INSERT INTO oms_orderevent (order_id, actor_id, at, event, from_status, to_status, reason, payload)
        SELECT o.id, NULL, o.created_at + e.k * interval '1 second', e.event, e.from_status,
            e.to_status, '', '{{}}'::jsonb
        FROM oms_order o
        JOIN (VALUES {values}) AS e(status, k, event, from_status, to_status) ON e.status = o.status
        WHERE o.id > {first_id}
        """
    )
    counts["fills"] = run(
        f"""
        INSERT INTO oms_orderfill (order_id, fill_id, quantity, price, fee, venue, executed_at,
            recorded_at, refused_reason)
        SELECT o.id, 'bulk-' || o.id || '-' || k, 50, 100 + k * 0.05, 0.5, 'NEXA',
            o.created_at + (k + 2) * interval '1 second', o.created_at + (k + 2) * interval '1 second', ''
        FROM oms_order o CROSS JOIN generate_series(1, 2) AS k
        WHERE o.id > {first_id} AND o.status = 'FILLED'
        """
    )
    counts["decisions"] = run(
        f"""
        INSERT INTO sor_routingdecision (kind, order_id, instrument_id, requested_by_id, strategy,
            rule, parameters, estimated_cost_bps, estimated_risk_bps, estimated_cost, rationale,
            inputs, cost_breakdown, allocation, market_data, created_at)
        SELECT 'RECOMMENDATION', o.id, o.instrument_id, o.created_by_id, 'TWAP', 'twap-default',
            '{{"horizon_seconds": "3600"}}'::jsonb, 4.2, 11.0, 42.0,
            '["Scheduled over the session."]'::jsonb, '{{"quantity": "100"}}'::jsonb, '{{}}'::jsonb,
            '[]'::jsonb, '{{"source": "reference data", "fresh": false}}'::jsonb,
            o.created_at + interval '1 second'
        FROM oms_order o WHERE o.id > {first_id} AND o.status <> 'REJECTED'
        """
    )

    return counts
