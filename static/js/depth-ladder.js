/* One instrument's consolidated depth and depth by venue, from /ws/marketdata/{symbol}/. */
import { api, el, fmt, live } from "./shared.js";

export function depthLadder(panel) {
  const symbol = panel.dataset.symbol;
  const rows = panel.querySelector("#ladder-rows"), venues = document.getElementById("venues");
  const render = (b) => {
    document.getElementById("ladder-seq").textContent = `seq ${b.seq}`;
    document.getElementById("best-bid").textContent = b.best_bid ? `${fmt(b.best_bid.price)} (${b.best_bid.venue})` : "–";
    document.getElementById("best-ask").textContent = b.best_ask ? `${fmt(b.best_ask.price)} (${b.best_ask.venue})` : "–";
    document.getElementById("spread").textContent = b.spread_bps ?? "–";
    document.getElementById("last").textContent = b.last_trade ? `${fmt(b.last_trade.price)} x ${fmt(b.last_trade.size)} ${b.last_trade.venue}` : "–";
    document.getElementById("age").textContent = `${Math.max(0, Date.now() / 1000 - b.published_at).toFixed(2)}s`;
    const bids = b.consolidated.bids, asks = b.consolidated.asks, n = Math.max(bids.length, asks.length);
    const max = Math.max(1, ...bids.map((l) => Number(l[1])), ...asks.map((l) => Number(l[1])));
    const bar = (q, color, side) => `background:linear-gradient(${side === "bid" ? "270deg" : "90deg"}, ${color} ${Number(q) / max * 100}%, transparent 0)`;
    rows.replaceChildren(...Array.from({ length: n }, (_, i) => el("tr", {},
      el("td", { class: "num", style: bids[i] ? bar(bids[i][1], "#1f4d3a", "bid") : "" }, bids[i] ? fmt(bids[i][1]) : ""),
      el("td", { class: "num c-bid" }, bids[i] ? bids[i][0] : ""),
      el("td", { class: "num c-ask" }, asks[i] ? asks[i][0] : ""),
      el("td", { class: "num", style: asks[i] ? bar(asks[i][1], "#5b1a1d", "ask") : "" }, asks[i] ? fmt(asks[i][1]) : ""))));
    venues.replaceChildren(...Object.entries(b.venues).map(([name, book]) => el("div", { class: "venue-book" },
      el("h3", {}, name),
      el("table", { class: "dense" }, ...book.bids.slice(0, 5).map((l, i) => el("tr", {},
        el("td", { class: "num" }, fmt(l[1])), el("td", { class: "num c-bid" }, l[0]),
        el("td", { class: "num c-ask" }, book.asks[i] ? book.asks[i][0] : ""), el("td", { class: "num" }, book.asks[i] ? fmt(book.asks[i][1]) : "")))))));
  };

  live({
    path: `/ws/marketdata/${symbol}/`,
    streamOf: (b) => b.symbol,
    snapshot: async () => {
      const res = await api("GET", `/api/marketdata/${encodeURIComponent(symbol)}/`);
      if (!res.ok && (res.status === 0 || res.status >= 500)) throw new Error(`book ${symbol}: ${res.status}`);
      if (!res.ok || res.data.seq === undefined) return {};  // nothing published yet
      render(res.data);
      return { [symbol]: res.data.seq };
    },
    apply: render,
  });
}
