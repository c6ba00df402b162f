/* One execution's page: the `/api/executions/{id}/` snapshot, then `execution.update` events
   from /ws/executions/{id}/ (the execution's row or one child order's row). New fills
   re-read the snapshot, which holds them. Charts are drawn with Chart.js (static/vendor):
   our fills against the arrival and average price, and the schedule against the filled
   quantity, on seconds since the execution started. */
import { api, el, fmt, live } from "./shared.js";

const seconds = (iso, start) => (new Date(iso) - start) / 1000;
const pct = (v) => `${(Number(v || 0) * 100).toFixed(1)}%`;
const time = (iso) => (iso ? new Date(iso).toISOString().slice(11, 19) : "–");

function lineChart(canvas, datasets, yTitle) {
  return new window.Chart(canvas, {
    type: "scatter",
    data: { datasets },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      scales: {
        x: { type: "linear", title: { display: true, text: "seconds since start" }, ticks: { color: "#7d8896" }, grid: { color: "#1b232e" } },
        y: { title: { display: true, text: yTitle }, ticks: { color: "#7d8896" }, grid: { color: "#1b232e" } },
      },
      plugins: { legend: { labels: { color: "#d7dde5", boxWidth: 10 } } },
    },
  });
}

export function executionPage(root) {
  const id = root.dataset.execution;
  const children = new Map();
  let execution = null, detail = null, priceChart = null, progressChart = null, refetching = null;

  const field = (name) => root.querySelector(`[data-field="${name}"]`);
  // The pushes of two workers (a tick, a batch of venue reports) and a snapshot read may
  // arrive out of commit order: a row older than the one shown is dropped, as the blotter does.
  const newer = (x, shown) => !shown || x.updated_at >= shown.updated_at;

  function drawExecution(x) {
    if (!newer(x, execution)) return;
    execution = x;
    field("status").textContent = x.status;
    field("status").className = `status s-${x.status}`;
    field("strategy").textContent = x.strategy;
    field("average_price").textContent = x.average_price ? fmt(x.average_price) : "–";
    field("arrival_price").textContent = x.arrival_price ? fmt(x.arrival_price) : "–";
    field("slippage_bps").textContent = x.slippage_bps === null ? "–" : `${fmt(x.slippage_bps, 1)} bps`;
    field("reason").textContent = x.reason || "";
    const bar = root.querySelector("#progress");
    bar.querySelector(".bar").style.width = `${Number(x.progress) * 100}%`;
    bar.querySelector(".schedule-mark").style.left = `${Number(x.schedule_progress) * 100}%`;
    bar.querySelector("span").textContent = `filled ${pct(x.progress)} · schedule ${pct(x.schedule_progress)}`;
    root.querySelectorAll("[data-command]").forEach((b) => {
      const c = b.dataset.command;
      b.disabled = !x.is_active || (c === "pause" && x.status === "PAUSED") || (c === "resume" && x.status !== "PAUSED");
    });
  }

  function drawChildren() {
    const rows = [...children.values()].sort((a, b) => b.seq - a.seq).map((c) => el("tr", { "data-child": c.client_order_id },
      el("td", {}, c.client_order_id), el("td", {}, c.venue), el("td", {}, c.child_type),
      el("td", { class: "num" }, fmt(c.quantity)), el("td", { class: "num" }, c.limit_price ? fmt(c.limit_price) : "–"),
      el("td", {}, el("span", { class: `status s-${c.status}` }, c.status)), el("td", { class: "num" }, fmt(c.filled_quantity)),
      el("td", { class: "num" }, c.average_price ? fmt(c.average_price) : "–"), el("td", { class: "muted" }, c.reason || "")));
    root.querySelector("#children tbody").replaceChildren(...(rows.length ? rows
      : [el("tr", {}, el("td", { colspan: 9, class: "muted" }, "No child orders yet."))]));
  }

  function drawDetail(d) {
    detail = d;
    drawExecution(d);
    const shown = new Map(children);
    children.clear();
    for (const c of d.children) {
      const before = shown.get(c.client_order_id);
      children.set(c.client_order_id, newer(c, before) ? c : before);
    }
    drawChildren();
    root.querySelector("#fills tbody").replaceChildren(...(d.fills.length ? d.fills.map((f) => el("tr", { "data-fill": f.fill_id },
      el("td", {}, f.fill_id), el("td", {}, f.venue), el("td", { class: "num" }, fmt(f.quantity)), el("td", { class: "num" }, fmt(f.price)),
      el("td", { class: "num" }, fmt(f.fee)), el("td", {}, time(f.executed_at))))
      : [el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No fills yet."))]));
    root.querySelector("#events tbody").replaceChildren(...d.events.map((e) => el("tr", {},
      el("td", {}, time(e.at)), el("td", {}, e.actor || "system"), el("td", {}, e.event), el("td", {}, e.from_status),
      el("td", {}, e.to_status), el("td", {}, e.reason))));
    drawCharts(d);
  }

  function drawCharts(d) {
    if (!window.Chart) return;
    const start = new Date(d.start_at), end = seconds(d.end_at, start);
    const fills = [...d.fills].sort((a, b) => new Date(a.executed_at) - new Date(b.executed_at));
    const prices = fills.map((f) => ({ x: seconds(f.executed_at, start), y: Number(f.price) }));
    const arrival = d.arrival_price ? [{ x: 0, y: Number(d.arrival_price) }, { x: end, y: Number(d.arrival_price) }] : [];
    let cum = 0;
    const actual = [{ x: 0, y: 0 }, ...fills.map((f) => ({ x: seconds(f.executed_at, start), y: (cum += Number(f.quantity)) }))];
    const schedule = d.schedule.map((p) => ({ x: seconds(p.at, start), y: Number(p.quantity) }));
    const mid = (d.market_path || []).map(([t, p]) => ({ x: t, y: Number(p) }));
    const priceSets = [
      { label: "market mid", data: mid, showLine: true, pointRadius: 0, borderColor: "#8b949e", borderWidth: 1 },
      { label: "our fills", data: prices, backgroundColor: "#3ea6ff", pointRadius: 4 },
      { label: "arrival", data: arrival, showLine: true, pointRadius: 0, borderColor: "#d29922", borderDash: [4, 3] },
    ];
    const progressSets = [
      { label: "schedule", data: schedule, showLine: true, pointRadius: 0, borderColor: "#7d8896", borderDash: [4, 3] },
      { label: "filled", data: actual, showLine: true, stepped: true, pointRadius: 0, borderColor: "#2fbf71" },
    ];
    if (priceChart) { priceChart.data.datasets = priceSets; priceChart.update(); }
    else priceChart = lineChart(root.querySelector("#price-chart"), priceSets, "price");
    if (progressChart) { progressChart.data.datasets = progressSets; progressChart.update(); }
    else progressChart = lineChart(root.querySelector("#progress-chart"), progressSets, "quantity");
  }

  async function load() {
    const res = await api("GET", `/api/executions/${id}/`);
    if (!res.ok) throw new Error(`execution snapshot: ${res.status}`);
    drawDetail(res.data);
    return {};
  }
  // A fill is not in the pushed rows: read the snapshot again, at most one read at a time.
  const refetch = () => { refetching = refetching || load().finally(() => { refetching = null; }); };

  root.addEventListener("click", async (ev) => {
    const command = ev.target.dataset && ev.target.dataset.command;
    if (!command) return;
    if (command === "cancel" && !confirm(`Cancel execution #${id} and its open child orders?`)) return;
    const res = await api("POST", `/api/executions/${id}/${command}/`);
    root.querySelector("#control-result").textContent = res.ok ? `${command}: done` : (res.data && res.data.detail) || `${command} refused (${res.status})`;
    if (res.ok) drawDetail(res.data);
  });

  live({
    path: `/ws/executions/${id}/`,
    snapshot: load,
    apply: (m) => {
      if (m.type !== "execution.update") return;
      if (m.child && newer(m.child, children.get(m.child.client_order_id))) {
        children.set(m.child.client_order_id, m.child);
        drawChildren();
      }
      if (m.execution) {
        const more = !detail || m.execution.filled_quantity !== detail.filled_quantity;
        drawExecution(m.execution);
        if (more) refetch();
      }
    },
  });
}
