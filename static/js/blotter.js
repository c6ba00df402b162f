/* The live order blotter (PM desk, trader blotter): the `/api/orders/` snapshot (with the
   active executions), then `order.update` and `execution.update` events from /ws/orders/
   through the shared live feed. An update replaces
   its row unless the row already shows a later state (two commits can arrive out of order),
   or becomes a new row in creation order. */
import { api, el, live } from "./shared.js";

const LIMIT = 100;

// A quantity or price exactly as stored, for people: thousands separators, no trailing
// zeros, never rounded (0.00005 stays 0.00005; the instrument's precision bounds it).
export function exact(v) {
  if (v === null || v === undefined || v === "") return "–";
  const [whole, frac = ""] = String(v).replace(/^-/, "").split(".");
  const sign = String(v).startsWith("-") ? "-" : "";
  const digits = frac.replace(/0+$/, "");
  return sign + Number(whole).toLocaleString("en-US") + (digits ? `.${digits}` : "");
}

// ISO timestamps with a fixed six-digit fraction compare as strings.
const instant = (s) => (s || "").replace(/(\.\d+)?(Z|[+-]\d\d:\d\d)$/, (_, frac, tz) => ((frac || ".") + "000000").slice(0, 7) + tz);

// The execution working an order, as a badge under its status: "TWAP · RUNNING".
const workBadge = (x) => el("div", { class: "work muted", "data-execution": x.id }, `${x.strategy} · ${x.status}`);

// The trader's blotter: a box to pick the open orders to form a block with.
const BLOCKABLE = new Set(["ACCEPTED", "WORKING", "PARTIALLY_FILLED"]);
const pick = (o, select) => (select && BLOCKABLE.has(o.status)
  ? [el("input", { type: "checkbox", class: "pick", "data-pick": o.id, title: "select for a block" }), " "] : []);

function orderRow(o, work, select) {
  const pct = Number(o.filled_percent || 0);
  return el("tr", { "data-order": o.id, "data-created": instant(o.created_at), "data-updated": instant(o.updated_at) },
    el("td", {}, ...pick(o, select), el("a", { href: `/orders/${o.id}/` }, String(o.id))),
    el("td", {}, new Date(o.created_at).toISOString().slice(11, 19)),
    el("td", {}, o.portfolio_name), el("td", {}, o.instrument),
    el("td", { class: `side-${o.side}` }, o.side), el("td", { class: "num" }, exact(o.quantity)),
    el("td", { class: "num" }, o.limit_price ? exact(o.limit_price) : "MKT"), el("td", {}, o.urgency),
    el("td", { class: "cell-status" }, el("span", { class: `status s-${o.status}` }, o.status.replaceAll("_", " ")),
      ...(o.rejection_reasons || []).length ? [el("div", { class: "reasons" }, ...o.rejection_reasons.map((r) => el("div", {}, r.message)))] : [],
      ...(work ? [workBadge(work)] : [])),
    el("td", { class: "cell-progress" }, el("div", { class: "progress", title: `${exact(o.filled_quantity)} of ${exact(o.quantity)}` },
      el("div", { class: "bar", style: `width:${pct}%` }), el("span", {}, `${pct.toFixed(1)}%`))),
    el("td", { class: "num cell-avg" }, o.average_fill_price ? exact(o.average_fill_price) : "–"),
    el("td", { class: "num" }, o.arrival_price ? exact(o.arrival_price) : "–"),
    el("td", {}, o.is_cancellable ? el("button", { class: "small cancel", "data-cancel": o.id }, "Cancel") : ""),
  );
}

const emptyRow = () => el("tr", { class: "empty" }, el("td", { colspan: 13, class: "muted" }, "No orders yet."));

export function liveBlotter(table, { select = false } = {}) {
  const body = table.tBodies[0];
  const work = new Map();  // order id -> its execution's latest row (execution.update on the same socket)
  const picked = new Set();  // the order ids ticked for a block (kept across redraws)
  const rowOf = (o) => {
    const row = orderRow(o, work.get(o.id), select);
    const box = row.querySelector("input.pick");
    if (box) box.checked = picked.has(o.id);
    return row;
  };
  table.addEventListener("change", (ev) => {
    const id = ev.target.dataset && ev.target.dataset.pick;
    if (!id) return;
    if (ev.target.checked) picked.add(Number(id)); else picked.delete(Number(id));
  });
  table.picked = () => [...picked];

  const follow = (x) => {
    const known = work.get(x.order);
    if (known && instant(known.updated_at) > instant(x.updated_at)) return;
    work.set(x.order, x);
    const cell = body.querySelector(`tr[data-order="${x.order}"] .cell-status`);
    if (!cell) return;
    cell.querySelector(".work")?.remove();
    cell.append(workBadge(x));
  };

  const upsert = (o) => {
    const row = body.querySelector(`tr[data-order="${o.id}"]`);
    if (row) {
      if (instant(o.updated_at) >= row.dataset.updated) row.replaceWith(rowOf(o));
      return;
    }
    const created = instant(o.created_at);
    const before = [...body.querySelectorAll("tr[data-order]")].find((r) => r.dataset.created < created);
    if (!before && body.querySelectorAll("tr[data-order]").length >= LIMIT) return;  // older than all we show
    body.querySelector("tr.empty")?.remove();
    if (before) before.before(rowOf(o)); else body.append(rowOf(o));
    const rows = body.querySelectorAll("tr[data-order]");
    if (rows.length > LIMIT) rows[rows.length - 1].remove();
  };

  table.addEventListener("click", async (ev) => {
    const id = ev.target.dataset && ev.target.dataset.cancel;
    if (!id) return;
    const row = ev.target.closest("tr"), cells = row ? [...row.cells].map((c) => c.textContent.trim()) : [];
    const what = cells.length ? `${cells[4]} ${cells[5]} ${cells[3]} (${cells[6]})` : "";
    if (!window.confirm(`Cancel order #${id}${what ? ` — ${what}` : ""}?`)) return;
    ev.target.disabled = true;
    const res = await api("POST", `/api/orders/${id}/cancel/`);
    if (res.ok) upsert(res.data);
    else { ev.target.disabled = false; alert((res.data && res.data.detail) || `Cancel failed (${res.status})`); }
  });
  document.addEventListener("order:changed", (ev) => upsert(ev.detail));

  live({
    path: "/ws/orders/",
    snapshot: async () => {
      const [res, xs] = await Promise.all([
        api("GET", `/api/orders/?limit=${LIMIT}`),
        api("GET", `/api/executions/?limit=${LIMIT}`),
      ]);
      if (!res.ok) throw new Error(`orders snapshot: ${res.status}`);
      work.clear();
      if (xs.ok) for (const x of xs.data.results || xs.data) work.set(x.order, x);
      const rows = res.data.results || res.data;
      body.replaceChildren(...(rows.length ? rows.map(rowOf) : [emptyRow()]));
      return {};  // the list has no seq: the socket's hello numbers it
    },
    apply: (m) => {
      if (m.type === "order.update") upsert(m.order);
      else if (m.type === "execution.update") follow(m.execution);
    },
  });
}
