/* One order's post-trade analysis: GET /api/tca/{order}/ drawn as tables and three Chart.js
   charts (static/vendor): the price path with our fills and the benchmarks, a waterfall of
   the implementation shortfall's parts (bps of the paper notional), and the markout curves
   (bps, positive = good for us) overall and per venue. */
import { api, el, fmt } from "./shared.js";

const PARTS = ["delay", "spread", "impact", "timing", "fees", "opportunity"];
const LABELS = { delay: "Delay", spread: "Spread", impact: "Impact", timing: "Timing", fees: "Fees", opportunity: "Opportunity" };
const PALETTE = ["#3ea6ff", "#2fbf71", "#d29922", "#a371f7", "#f85149", "#8b949e"];
const axis = (text) => ({ title: { display: true, text }, ticks: { color: "#7d8896" }, grid: { color: "#1b232e" } });
const legend = { legend: { labels: { color: "#d7dde5", boxWidth: 10 } } };
const bp = (v) => (v === null || v === undefined ? "–" : `${fmt(v, 2)} bps`);

function chart(canvas, config) {
  return new window.Chart(canvas, { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options } });
}

function waterfall(canvas, shortfall) {
  let run = 0;
  const bars = PARTS.map((k) => {
    const v = Number(shortfall.parts_bps[k] || 0), from = run;
    run += v;
    return [from, run];
  });
  const total = Number(shortfall.total_bps || 0);
  const colours = [...PARTS.map((k) => (Number(shortfall.parts[k]) > 0 ? "#f85149" : "#2fbf71")), "#3ea6ff"];
  return chart(canvas, {
    type: "bar",
    data: { labels: [...PARTS.map((k) => LABELS[k]), "Total"], datasets: [{ label: "bps of the paper notional", data: [...bars, [0, total]], backgroundColor: colours }] },
    options: { scales: { x: axis(""), y: axis("bps (cost > 0)") }, plugins: { legend: { display: false } } },
  });
}

function pricePath(canvas, t) {
  const path = t.price_path.points.map(([x, y]) => ({ x, y: Number(y) }));
  const fills = t.fills.map((f) => ({ x: f.t, y: Number(f.price) }));
  const end = Math.max(t.window.end - t.window.start, path.length ? path[path.length - 1].x : 0);
  const flat = (label, v, colour) => (v ? [{ label, data: [{ x: 0, y: Number(v) }, { x: end, y: Number(v) }], showLine: true, pointRadius: 0, borderColor: colour, borderDash: [4, 3], borderWidth: 1 }] : []);
  return chart(canvas, {
    type: "scatter",
    data: {
      datasets: [
        { label: "market mid", data: path, showLine: true, pointRadius: 0, borderColor: "#8b949e", borderWidth: 1, stepped: true },
        { label: "our fills", data: fills, backgroundColor: "#3ea6ff", pointRadius: 4 },
        ...flat("decision", t.benchmarks.decision, "#a371f7"),
        ...flat("arrival", t.benchmarks.arrival, "#d29922"),
        ...flat("interval VWAP", t.benchmarks.interval_vwap, "#2fbf71"),
        ...flat("interval TWAP", t.benchmarks.interval_twap, "#58a6ff"),
      ],
    },
    options: { scales: { x: { type: "linear", ...axis("seconds since start") }, y: axis("price") }, plugins: legend },
  });
}

function markoutCurves(canvas, m) {
  const h = m.curve.horizons;
  const line = (label, values, colour) => ({ label, data: h.map((x, i) => ({ x, y: values[i] === null ? null : Number(values[i]) })), showLine: true, borderColor: colour, backgroundColor: colour, spanGaps: true });
  const sets = [line("all fills", m.curve.overall, "#d7dde5"), ...Object.entries(m.curve.by_venue).map(([v, values], i) => line(v, values, PALETTE[i % PALETTE.length]))];
  return chart(canvas, { type: "scatter", data: { datasets: sets }, options: { scales: { x: { type: "linear", ...axis("seconds after the fill") }, y: axis("bps (good > 0)") }, plugins: legend } });
}

function scheduleChart(canvas, p) {
  const points = (list) => list.map(([x, y]) => ({ x, y: Number(y) }));
  return chart(canvas, {
    type: "scatter",
    data: { datasets: [
      { label: "schedule", data: points(p.schedule), showLine: true, pointRadius: 0, borderColor: "#7d8896", borderDash: [4, 3] },
      { label: "filled", data: points(p.actual), showLine: true, stepped: true, pointRadius: 0, borderColor: "#2fbf71" },
    ] },
    options: { scales: { x: { type: "linear", ...axis("seconds since start") }, y: axis("cumulative quantity") }, plugins: legend },
  });
}

const WAYS = {
  as_executed: "As executed (simulated)",
  single_market_order: "One market order, main venue",
  one_venue_twap: "Plain TWAP, one venue",
  router_second_choice: "Router's second choice",
};
const CF_STATUS = {
  pending: "Being computed by the EMS backtest from the market recorded at arrival…",
  unavailable: "No market state was recorded when this order's execution started: no counterfactuals.",
};

/* The realised cost (real market, from the arrival price) and, below it, the EMS backtest's
   rows: each way in the same simulated market, started from the state recorded at arrival. */
function counterfactuals(root, t) {
  const c = t.counterfactual, r = c.realised;
  const realised = el("tr", { "data-counterfactual": "realised", class: "total" }, el("th", {}, "Realised (this order)"), el("td", {}, r.strategy || "–"),
    el("td", { class: "num" }, fmt(r.filled)), el("td", { class: "num" }, fmt(r.average_price)), el("td", { class: "num" }, bp(r.shortfall_bps)),
    el("td", { class: "num" }, fmt(r.cost, 2)), el("td", { class: "num" }, ""), el("td", { class: "muted" }, "in the real market"));
  const simulated = t.counterfactuals.map((r) => el("tr", { "data-counterfactual": r.way }, el("td", {}, WAYS[r.way] || r.way), el("td", {}, r.strategy || "–"),
    el("td", { class: "num" }, fmt(r.filled)), el("td", { class: "num" }, fmt(r.average_price)), el("td", { class: "num" }, bp(r.shortfall_bps)),
    el("td", { class: "num" }, fmt(r.cost, 2)), el("td", { class: "num" }, bp(r.adjusted_shortfall_bps)), el("td", { class: "muted" }, r.note || "")));
  rows(root.querySelector("#counterfactuals tbody"), [realised, ...simulated], "", 8);
  const m = c.market;
  root.querySelector("#counterfactual-source").textContent = c.status === "computed" && m
    ? `EMS backtest (production algorithms, ${c.tick_seconds} s ticks) from the market recorded at arrival: simulator seed ${m.seed}, session time ${fmt(m.session_time, 0)} s`
      + (m.anchored ? `, mid anchored at the arrival ${fmt(m.arrival_mid)}` : "") + `. Simulated market, same for every way.${c.error ? ` ${c.error}` : ""}`
    : CF_STATUS[c.status] || "";
  root.dataset.counterfactuals = c.status;
}

async function refreshCounterfactuals(root, order, attempt) {
  if (attempt >= 60) return;
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const res = await api("GET", `/api/tca/${order}/`);
  if (!res.ok) return;
  counterfactuals(root, res.data);
  if (res.data.counterfactual.status === "pending") refreshCounterfactuals(root, order, attempt + 1);
}

function rows(tbody, list, empty, cols) {
  tbody.replaceChildren(...(list.length ? list : [el("tr", {}, el("td", { colspan: cols, class: "muted" }, empty))]));
}

export async function tcaPage(root) {
  const order = root.dataset.order;
  const res = await api("GET", `/api/tca/${order}/`);
  if (!res.ok) { root.querySelector("#tca-state").textContent = `TCA unavailable (${res.status})`; return; }
  const t = res.data, s = t.shortfall;
  root.querySelector("#tca-state").textContent = t.final ? `final · computed ${t.computed_at.slice(0, 19)} UTC` : "provisional: the order is still working or its markouts are not known yet";
  const b = t.benchmarks;
  for (const [k, v] of Object.entries(b)) { const cell = root.querySelector(`[data-benchmark="${k}"]`); if (cell) cell.textContent = fmt(v); }
  for (const [k, v] of Object.entries(t.slippage_bps)) { const cell = root.querySelector(`[data-slippage="${k}"]`); if (cell) cell.textContent = bp(v); }
  rows(root.querySelector("#shortfall tbody"), [...PARTS.map((k) => el("tr", { "data-part": k }, el("td", {}, LABELS[k]), el("td", { class: "num" }, fmt(s.parts[k], 2)), el("td", { class: "num" }, bp(s.parts_bps[k])))),
    el("tr", { "data-part": "total", class: "total" }, el("th", {}, "Total"), el("th", { class: "num" }, fmt(s.total, 2)), el("th", { class: "num" }, bp(s.total_bps)))], "", 3);
  const pre = t.pretrade;
  root.querySelector("#pretrade").textContent = `estimated ${bp(pre.estimated_cost_bps)} · realised ${bp(pre.realised_cost_bps)} · error ${bp(pre.error_bps)}`;
  const p = t.profile;
  root.querySelector("#profile-summary").textContent = `participation ${p.participation_pct ?? "–"}% · passive ${p.passive_pct ?? "–"}% · aggressive ${p.aggressive_pct ?? "–"}% · dark ${p.dark_pct ?? "–"}% · fees ${fmt(p.fees, 2)}`;
  rows(root.querySelector("#venues tbody"), p.venues.map((v) => el("tr", { "data-venue": v.venue }, el("td", {}, v.venue), el("td", { class: "num" }, String(v.child_orders)),
    el("td", { class: "num" }, v.fill_rate_pct ? `${v.fill_rate_pct}%` : "–"), el("td", { class: "num" }, fmt(v.filled_quantity)), el("td", { class: "num" }, fmt(v.average_price)),
    el("td", { class: "num" }, fmt(v.fees, 2)), el("td", { class: "num" }, (t.markouts.by_venue[v.venue] || {})["10"] ?? "–"))), "No venue activity.", 7);
  const cps = Object.entries(t.markouts.by_counterparty);
  rows(root.querySelector("#counterparties tbody"), cps.map(([name, m]) => el("tr", {}, el("td", {}, name), ...["1", "10", "60"].map((h) => el("td", { class: "num" }, m[h] ?? "–")))), "No counterparty fills.", 4);
  const rfqRows = t.rfqs.flatMap((r) => r.quotes.map((q) => el("tr", { class: q.chosen ? "chosen" : "" }, el("td", {}, `#${r.rfq}`), el("td", {}, q.provider), el("td", { class: "num" }, fmt(q.price)),
    el("td", { class: "num" }, `${q.after_seconds}s`), el("td", {}, q.status), el("td", {}, q.chosen ? `chosen: ${r.reason}` : ""),
    el("td", { class: "num" }, (r.leakage.providers.find((x) => x.provider === q.provider) || {}).leakage_bps ?? "–"))));
  rows(root.querySelector("#rfq-quotes tbody"), rfqRows, "No RFQ.", 7);
  root.querySelector("#rfq-summary").textContent = t.rfqs.map((r) => `RFQ #${r.rfq}: improvement ${bp(r.improvement_vs_mid_bps)} vs mid, ${bp(r.improvement_vs_second_bps)} vs second best`).join(" · ");
  counterfactuals(root, t);
  if (t.counterfactual.status === "pending") refreshCounterfactuals(root, order, 0);
  if (!window.Chart) return;
  waterfall(root.querySelector("#waterfall-chart"), s);
  pricePath(root.querySelector("#price-chart"), t);
  markoutCurves(root.querySelector("#markout-chart"), t.markouts);
  scheduleChart(root.querySelector("#schedule-chart"), t.profile);
  root.dataset.drawn = "1";
}
