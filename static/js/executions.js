/* The trader's execution blotter: the `/api/executions/` snapshot, then `execution.update`
   events from /ws/executions/ through the shared live feed. Filter, sort and search run on
   the rows shown; pause, resume and cancel go through the API; the kill switch asks first. */
import { api, el, fmt, live } from "./shared.js";

const LIMIT = 200;
const rows = new Map();  // id -> execution row (the API's shape)
let sortKey = "id", sortDown = true;

const pct = (v) => `${(Number(v || 0) * 100).toFixed(1)}%`;

function progressBar(x) {
  return el("div", { class: "progress", title: `filled ${pct(x.progress)} · schedule ${pct(x.schedule_progress)}` },
    el("div", { class: "bar", style: `width:${Number(x.progress) * 100}%` }),
    el("div", { class: "schedule-mark", style: `left:${Number(x.schedule_progress) * 100}%` }),
    el("span", {}, `${pct(x.progress)} / ${pct(x.schedule_progress)}`));
}

function controls(x) {
  if (!x.is_active) return "";
  const button = (command, label, cls = "small") => el("button", { class: cls, "data-command": command, "data-id": x.id }, label);
  return el("span", {}, x.status === "PAUSED" ? button("resume", "Resume") : button("pause", "Pause"), " ",
    button("cancel", "Cancel", "small danger"));
}

function executionRow(x) {
  const slip = x.slippage_bps === null || x.slippage_bps === undefined ? "–" : fmt(x.slippage_bps, 1);
  return el("tr", { "data-execution": x.id },
    el("td", {}, el("a", { href: `/executions/${x.id}/` }, String(x.id))),
    el("td", {}, x.block ? el("a", { href: `/trader/blocks/${x.block}/` }, `block #${x.block}`)
      : el("a", { href: `/orders/${x.order}/` }, `#${x.order}`)),
    el("td", {}, x.instrument), el("td", { class: `side-${x.side}` }, x.side), el("td", {}, x.strategy),
    el("td", { class: "cell-status" }, el("span", { class: `status s-${x.status}` }, x.status)),
    el("td", { class: "cell-progress" }, progressBar(x)),
    el("td", { class: "num" }, x.average_price ? fmt(x.average_price) : "–"),
    el("td", { class: "num" }, x.arrival_price ? fmt(x.arrival_price) : "–"),
    el("td", { class: `num ${Number(x.slippage_bps) > 0 ? "neg" : ""}` }, slip),
    el("td", {}, controls(x), " ", x.block ? "" : el("a", { class: "small", href: `/orders/${x.order}/tca/`, "data-tca": x.order }, "TCA")));
}

export function executionBlotter(table) {
  const body = table.tBodies[0];
  const status = document.getElementById("filter-status");
  const strategy = document.getElementById("filter-strategy");
  const search = document.getElementById("filter-search");

  const visible = (x) => (!status.value || x.status === status.value) && (!strategy.value || x.strategy === strategy.value)
    && (!search.value || `${x.id} #${x.order} ${x.instrument}`.toLowerCase().includes(search.value.toLowerCase()));

  const draw = () => {
    const key = (x) => { const v = x[sortKey]; return v !== null && v !== "" && !isNaN(Number(v)) ? Number(v) : String(v ?? ""); };
    const shown = [...rows.values()].filter(visible).sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (sortDown ? -1 : 1));
    body.replaceChildren(...(shown.length ? shown.map(executionRow)
      : [el("tr", { class: "empty" }, el("td", { colspan: 11, class: "muted" }, rows.size ? "No execution matches." : "No executions yet."))]));
  };
  const upsert = (x) => { const old = rows.get(x.id); if (!old || x.updated_at >= old.updated_at) rows.set(x.id, x); draw(); };

  for (const input of [status, strategy]) input.addEventListener("change", draw);
  search.addEventListener("input", draw);
  table.tHead.addEventListener("click", (ev) => {
    const key = ev.target.dataset && ev.target.dataset.sort;
    if (!key) return;
    sortDown = key === sortKey ? !sortDown : true; sortKey = key; draw();
  });
  body.addEventListener("click", async (ev) => {
    const { command, id } = ev.target.dataset || {};
    if (!command) return;
    if (command === "cancel" && !confirm(`Cancel execution #${id} and its open child orders?`)) return;
    ev.target.disabled = true;
    const res = await api("POST", `/api/executions/${id}/${command}/`);
    if (res.ok) upsert(res.data); else { ev.target.disabled = false; alert((res.data && res.data.detail) || `${command} failed (${res.status})`); }
  });
  document.getElementById("killswitch").addEventListener("click", async () => {
    if (!confirm("Kill switch: stop EVERY execution and cancel every open child order?")) return;
    const res = await api("POST", "/api/killswitch/");
    document.getElementById("killswitch-result").textContent = res.ok
      ? `Kill switch engaged: ${res.data.stopped} execution(s) stopped.` : (res.data && res.data.detail) || `Refused (${res.status})`;
  });

  live({
    path: "/ws/executions/",
    snapshot: async () => {
      const res = await api("GET", `/api/executions/?limit=${LIMIT}`);
      if (!res.ok) throw new Error(`executions snapshot: ${res.status}`);
      rows.clear();
      for (const x of res.data.results || res.data) rows.set(x.id, x);
      draw();
      return {};  // the list has no seq: the socket's hello numbers it
    },
    apply: (m) => { if (m.type === "execution.update" && m.execution) upsert(m.execution); },
  });
}
