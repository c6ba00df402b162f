/* The live RFQ ladder: the GET /api/rfqs/{id}/ snapshot, then `rfq.ladder` pushes from
   /ws/rfqs/{id}/ through the shared live feed (each push carries the snapshot fields that
   changed and, for a quote, an update, a withdrawal or a pass, the ladder's delta:
   applyPush in rfq-ladder-state.js), a countdown to the window's end, one click to execute
   a row, and the outcome. */
import { applyPush } from "./rfq-ladder-state.js";
import { api, el, fmt, live } from "./shared.js";

const OUTCOMES = {
  FILLED: "Filled", LAST_LOOK_REJECTED: "Rejected on last look: take the next quote",
  EXPIRED: "Expired: the window closed without an execution", NO_QUOTES: "No quotes: nobody answered in the window",
  CANCELLED: "Cancelled", PENDING: "",
};

export function rfqLadder(node) {
  const id = node.dataset.rfq;
  const body = node.querySelector("#rfq-ladder tbody");
  let state = null, skew = 0;  // skew: server clock minus ours

  const draw = (r) => {
    state = r;
    skew = Date.parse(r.as_of) - Date.now();
    node.querySelector("#rfq-status").textContent = r.status;
    node.querySelector("#rfq-status").className = `status s-${r.status}`;
    node.querySelector("#rfq-mid").textContent = fmt(r.mid);
    const out = node.querySelector("#rfq-outcome");
    out.textContent = OUTCOMES[r.outcome] || r.outcome;
    out.dataset.outcome = r.outcome;
    const open = ["DRAFT", "SENT", "QUOTING"].includes(r.status);
    const pkg = Boolean(r.package);
    const packageCells = (q) => pkg ? [
      el("td", { class: "num cell-distance" }, fmt(q.distance, 2)),
      el("td", { class: "num" }, q.bps_from_mid === null ? "–" : fmt(q.bps_from_mid, 2)),
      el("td", { class: "implied-legs" }, (q.implied_legs || []).map((l) => `${l.side} ${l.instrument} ${fmt(l.price, 2)}`).join(" · ")),
    ] : [el("td", { class: "num" }, q.bps_from_mid === null ? "–" : fmt(q.bps_from_mid, 2))];
    body.replaceChildren(...(r.ladder.length ? r.ladder.map((q, i) => el("tr", { "data-quote": q.quote, "data-valid": q.valid_until },
      el("td", {}, String(i + 1)), el("td", {}, q.provider), el("td", { class: "num" }, fmt(q.price)),
      el("td", { class: "num" }, fmt(q.size)), el("td", { class: "num cell-left" }, `${q.time_left.toFixed(1)}s`),
      ...packageCells(q),
      el("td", {}, open ? el("button", { class: "small execute", "data-execute": q.quote }, "Execute") : ""),
    )) : [el("tr", { class: "empty" }, el("td", { colspan: pkg ? 9 : 7, class: "muted" }, open ? "Waiting for quotes…" : "No live quotes."))]));
    if (pkg) drawLegs(r);
    node.querySelector("#rfq-providers").textContent = r.counterparties.map((c) =>
      `${c.name}: ${c.passed ? "passed" : c.responded ? "answered" : "asked"}`).join(" · ")
      + (r.rejections.length ? ` · last look rejected: ${r.rejections.map((x) => x.provider).join(", ")}` : "");
    const ex = r.execution;
    node.querySelector("#rfq-execution").replaceChildren(...(ex ? [el("div", { class: "rfq-fill", id: "rfq-fill" },
      `Filled ${fmt(ex.quantity)} @ ${fmt(ex.price)} with ${ex.provider} · ${ex.reason} · vs mid ${fmt(ex.improvement_vs_mid_bps, 2)} bps`
      + (ex.improvement_vs_second_bps !== null ? ` · vs second best ${fmt(ex.improvement_vs_second_bps, 2)} bps` : ""))] : []));
  };

  // A package's legs: each leg's order, filled or not (positions and fills stay per order).
  const drawLegs = (r) => {
    const parts = r.execution && r.execution.parts ? r.execution.parts : [];
    node.querySelector("#rfq-legs").replaceChildren(el("table", { class: "dense", id: "rfq-leg-orders" },
      el("thead", {}, el("tr", {}, el("th", {}, "Leg"), el("th", {}, "Order"), el("th", {}, "Instrument"), el("th", {}, "Side"),
        el("th", { class: "num" }, "Qty"), el("th", { class: "num" }, "Filled"), el("th", { class: "num" }, "Avg price"), el("th", {}, "Status"))),
      el("tbody", {}, ...r.leg_orders.map((l) => el("tr", { "data-order": l.order },
        el("td", {}, l.is_hedge ? "hedge" : String(l.index + 1)), el("td", {}, el("a", { href: `/orders/${l.order}/` }, `#${l.order}`)),
        el("td", {}, l.instrument), el("td", { class: `side-${l.side}` }, l.side), el("td", { class: "num" }, fmt(l.quantity)),
        el("td", { class: "num" }, fmt(l.filled_quantity)), el("td", { class: "num" }, fmt(l.average_fill_price, 2)),
        el("td", {}, el("span", { class: `status s-${l.status}` }, l.status)))))),
      ...(parts.length ? [el("div", { class: "muted", id: "rfq-parts" }, parts.map((p) => `${p.provider}: ${fmt(p.quantity)} @ ${fmt(p.price, 2)}`
        + (p.hedge_price ? ` (hedge @ ${fmt(p.hedge_price, 2)})` : " (hedge left to the EMS)")).join(" · "))] : []));
  };

  const tick = () => {
    if (!state) return;
    const now = Date.now() + skew;
    const open = ["DRAFT", "SENT", "QUOTING"].includes(state.status);
    const left = state.window_ends_at && open ? Math.max(0, (Date.parse(state.window_ends_at) - now) / 1000) : 0;
    node.querySelector("#rfq-countdown").textContent = open ? `${left.toFixed(1)}s` : "closed";
    body.querySelectorAll("tr[data-valid]").forEach((tr) => {
      const l = Math.max(0, (Date.parse(tr.dataset.valid) - now) / 1000);
      tr.querySelector(".cell-left").textContent = `${l.toFixed(1)}s`;
      tr.classList.toggle("stale", l <= 0);
    });
  };
  setInterval(tick, 100);

  body.addEventListener("click", async (ev) => {
    const quote = ev.target.dataset && ev.target.dataset.execute;
    if (!quote) return;
    body.querySelectorAll("button.execute").forEach((b) => { b.disabled = true; });
    const res = await api("POST", `/api/rfqs/${id}/execute/`, { quote: Number(quote) });
    if (res.ok) draw(res.data);
    else {
      body.querySelectorAll("button.execute").forEach((b) => { b.disabled = false; });
      node.querySelector("#rfq-outcome").textContent = (res.data && res.data.detail) || `Execution failed (${res.status})`;
    }
  });

  live({
    path: `/ws/rfqs/${id}/`,
    snapshot: async () => {
      const res = await api("GET", `/api/rfqs/${id}/`);
      if (!res.ok) throw new Error(`snapshot ${res.status}`);
      draw(res.data);
      return res.data.seq === null ? {} : { [`rfq.${id}`]: res.data.seq };
    },
    apply: (m) => draw(applyPush(state, m)),
  });
}
