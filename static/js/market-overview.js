/* The market overview: one row per instrument, all fed by ONE socket (/ws/marketdata/),
   each symbol its own sequence stream with its own REST snapshot. */
import { api, fmt, live } from "./shared.js";

async function book(symbol) {
  const res = await api("GET", `/api/marketdata/${encodeURIComponent(symbol)}/`);
  if (!res.ok && (res.status === 0 || res.status >= 500)) throw new Error(`book ${symbol}: ${res.status}`);
  return res.ok && res.data.seq !== undefined ? res.data : null;  // null: no book published yet
}

export function marketOverview(table) {
  const rows = new Map([...table.tBodies[0].rows].map((tr) => [tr.dataset.symbol, tr]));

  const draw = (b) => {
    const tr = rows.get(b.symbol);
    if (!tr) return;
    const cell = (c) => tr.querySelector(c), ref = Number(tr.dataset.ref);
    const last = b.last_trade ? Number(b.last_trade.price) : Number(b.mid);
    const prev = Number(cell(".c-last").dataset.v || last);
    cell(".c-bid").textContent = b.best_bid ? fmt(b.best_bid.price) : "–";
    cell(".c-ask").textContent = b.best_ask ? fmt(b.best_ask.price) : "–";
    cell(".c-last").textContent = fmt(last); cell(".c-last").dataset.v = last;
    cell(".c-last").className = "num c-last " + (last > prev ? "flash-up" : last < prev ? "flash-down" : "");
    const chg = (last / ref - 1) * 100;
    cell(".c-chg").textContent = `${chg >= 0 ? "+" : ""}${chg.toFixed(2)}%`; cell(".c-chg").className = "num c-chg " + (chg >= 0 ? "pos" : "neg");
    cell(".c-spread").textContent = b.spread_bps ?? "–";
    cell(".c-vol").textContent = fmt(b.volume, 0);
    cell(".c-age").textContent = `seq ${b.seq}`;
  };

  live({
    path: "/ws/marketdata/",
    streamOf: (b) => b.symbol,
    snapshot: async (keys) => {
      const seqs = {};
      await Promise.all((keys || [...rows.keys()]).map(async (symbol) => {
        const b = await book(symbol);
        if (b) { draw(b); seqs[symbol] = b.seq; }
      }));
      return seqs;
    },
    apply: draw,
  });
}
