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
    body.replaceChildren(...(r.ladder.length ? r.ladder.map((q, i) => el("tr", { "data-quote": q.quote, "data-valid": q.valid_until },
      el("td", {}, String(i + 1)), el("td", {}, q.provider), el("td", { class: "num" }, fmt(q.price)),
      el("td", { class: "num" }, fmt(q.size)), el("td", { class: "num cell-left" }, `${q.time_left.toFixed(1)}s`),
      el("td", { class: "num" }, q.bps_from_mid === null ? "–" : fmt(q.bps_from_mid, 2)),
      el("td", {}, open ? el("button", { class: "small execute", "data-execute": q.quote }, "Execute") : ""),
    )) : [el("tr", { class: "empty" }, el("td", { colspan: 7, class: "muted" }, open ? "Waiting for quotes…" : "No live quotes."))]));
    node.querySelector("#rfq-providers").textContent = r.counterparties.map((c) =>
      `${c.name}: ${c.passed ? "passed" : c.responded ? "answered" : "asked"}`).join(" · ")
      + (r.rejections.length ? ` · last look rejected: ${r.rejections.map((x) => x.provider).join(", ")}` : "");
    const ex = r.execution;
    node.querySelector("#rfq-execution").replaceChildren(...(ex ? [el("div", { class: "rfq-fill", id: "rfq-fill" },
      `Filled ${fmt(ex.quantity)} @ ${fmt(ex.price)} with ${ex.provider} · ${ex.reason} · vs mid ${fmt(ex.improvement_vs_mid_bps, 2)} bps`
      + (ex.improvement_vs_second_bps !== null ? ` · vs second best ${fmt(ex.improvement_vs_second_bps, 2)} bps` : ""))] : []));
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
