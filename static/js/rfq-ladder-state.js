/* The RFQ as the browser holds it: a GET /api/rfqs/{id}/ snapshot with `rfq.ladder` pushes
   applied (rfq/push.py). A push's `rfq` fields replace the copy's; a push with a `delta`
   (a quote, an update, a withdrawal or a pass) also removes and adds ladder rows and
   replaces counterparties entries, and the ladder is then ordered as rfq/domain/ladder.py
   orders it: the quotes live at `as_of`, best first for the client's side (price, then the
   larger size, then the earlier), time left and distance from the (new) mid recomputed.
   Times are compared to the millisecond (Date.parse): two quotes at one price and size
   received within the same millisecond may order by id where the server orders them by the
   microsecond, and distances round half up where the server rounds half to even.
   No DOM here: tests/rfq/test_push.py runs it under Node against fresh snapshots. */

const BUY = "BUY";

const at = (iso) => Date.parse(iso) / 1000;

// Distance from the mid in bps, positive when worse for the client, to 0.01 like the server.
export function bpsFromMid(price, mid, side) {
  const p = Number(price), m = Number(mid);
  if (!m) return null;
  const bps = ((side === BUY ? p - m : m - p) / m) * 10000;
  return (Math.round(bps * 100) / 100).toFixed(2);
}

// A package's rows: bps of its gross premium (`premium`), and the distance in currency.
export function bpsOf(price, mid, side, premium) {
  const p = Number(price), m = Number(mid), base = Number(premium);
  if (mid === null || mid === undefined || !base) return null;
  const bps = ((side === BUY ? p - m : m - p) / base) * 10000;
  return (Math.round(bps * 100) / 100).toFixed(2);
}

export function orderLadder(rows, { side, mid, asOf, premium }) {
  const now = at(asOf), sign = side === BUY ? 1 : -1;
  return rows
    .filter((r) => now < at(r.valid_until))
    .map((r) => ({
      ...r,
      time_left: Math.round((at(r.valid_until) - now) * 10) / 10,
      ...(premium
        ? { bps_from_mid: bpsOf(r.price, mid, side, premium), distance: String(side === BUY ? Number(r.price) - Number(mid) : Number(mid) - Number(r.price)) }
        : { bps_from_mid: bpsFromMid(r.price, mid, side) }),
    }))
    .sort((a, b) => sign * (Number(a.price) - Number(b.price)) || Number(b.size) - Number(a.size)
      || at(a.received_at) - at(b.received_at) || a.quote - b.quote);
}

export function applyPush(state, m) {
  const next = { ...state, ...m.rfq };
  const d = m.delta;
  if (!d) return next;
  const gone = new Set([...d.remove, ...d.add.map((r) => r.quote)]);
  const rows = state.ladder.filter((r) => !gone.has(r.quote)).concat(d.add);
  next.ladder = orderLadder(rows, { side: next.side, mid: next.mid, asOf: next.as_of, premium: next.premium });
  const answered = new Map(d.counterparties.map((c) => [c.name, c]));
  next.counterparties = state.counterparties.map((c) => answered.get(c.name) || c);
  return next;
}
