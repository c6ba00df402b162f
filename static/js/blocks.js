/* Blocks: the desk's block page (members, their progress and allocations, the execution
   working the block) and the blocks list, where a PM sees only their own orders' share.
   Each draws the `/api/blocks/` snapshot and re-draws it on every live event of its socket
   (the block's execution on /ws/executions/{id}/, the user's orders on /ws/orders/): the
   snapshot is the one source, the events only say when to read it again. */
import { api, el, live } from "./shared.js";
import { exact } from "./blotter.js";

const pct = (v) => `${(Number(v || 0) * 100).toFixed(1)}%`;

function progress(value, label) {
  return el("div", { class: "progress", title: label || "" },
    el("div", { class: "bar", style: `width:${Number(value || 0) * 100}%` }), el("span", {}, pct(value)));
}

// One re-fetch at a time; events arriving meanwhile ask for one more after it.
function refetcher(draw) {
  let running = false, again = false;
  const run = async () => {
    if (running) { again = true; return; }
    running = true;
    try { do { again = false; await draw(); } while (again); } finally { running = false; }
  };
  return run;
}

function memberRow(m, blockId, working) {
  return el("tr", { "data-member-order": m.order },
    el("td", {}, el("a", { href: `/orders/${m.order}/` }, String(m.order))),
    el("td", {}, m.portfolio),
    el("td", { class: "num" }, exact(m.order_quantity)),
    el("td", { class: "num" }, m.limit_price ? exact(m.limit_price) : "MKT"),
    el("td", { class: "num cell-allocated" }, exact(m.allocated_quantity)),
    el("td", { class: "cell-progress" }, progress(m.progress, `${exact(m.order_filled)} of ${exact(m.order_quantity)}`)),
    el("td", { class: "num" }, m.average_price ? exact(m.average_price) : "–"),
    el("td", { class: "cell-status" }, el("span", { class: `status s-${m.order_status}` }, m.order_status.replaceAll("_", " ")),
      m.active ? "" : el("div", { class: "muted" }, `left: ${m.left_reason}`)),
    el("td", {}, m.active && working !== false
      ? el("button", { class: "small", "data-remove": m.order, "data-block": blockId }, "Remove") : ""),
  );
}

export function blockDesk(root) {
  const id = root.dataset.block;
  const $ = (s) => root.querySelector(s);
  let executionId = null, following = false;

  const draw = async () => {
    const res = await api("GET", `/api/blocks/${id}/`);
    if (!res.ok) throw new Error(`block snapshot: ${res.status}`);
    const b = res.data;
    $("#block-status").textContent = b.status;
    $("#block-limit").textContent = b.limit_note;
    const d = b.decision;
    $("#block-decision").textContent = d ? `Router on the block's ${exact(d.quantity)}: ${d.strategy} — ${(d.rationale || []).join(" · ")}` : "";
    $("#block-start").hidden = b.status !== "FORMED";
    const x = b.execution;
    if (x) {
      $("#block-execution").replaceChildren(
        el("a", { href: `/executions/${x.id}/` }, `#${x.id}`), ` ${x.strategy} · `,
        el("span", { class: `status s-${x.status}`, id: "block-execution-status" }, x.status), " ",
        el("span", { id: "block-progress" }, progress(x.progress, `${exact(x.filled_quantity)} of ${exact(x.quantity)}`)),
        ` filled ${exact(x.filled_quantity)} of ${exact(x.quantity)} · avg ${x.average_price ? exact(x.average_price) : "–"}`,
        Number(b.unallocated_quantity) ? ` · unallocated ${exact(b.unallocated_quantity)}` : "",
      );
      executionId = x.id;
    }
    $("#block-members tbody").replaceChildren(...b.members.map((m) => memberRow(m, id, b.status !== "CLOSED")));
    return b;
  };
  const redraw = refetcher(draw);

  const follow = () => {
    if (following || !executionId) return;
    following = true;
    live({ path: `/ws/executions/${executionId}/`, snapshot: async () => { await draw(); return {}; }, apply: () => redraw() });
  };

  const say = (text) => { $("#block-message").textContent = text; };
  $("#block-start").addEventListener("click", async (ev) => {
    ev.target.disabled = true;
    const res = await api("POST", "/api/executions/", { block: Number(id) });
    ev.target.disabled = false;
    if (!res.ok) { say((res.data && (res.data.detail || JSON.stringify(res.data))) || `failed (${res.status})`); return; }
    say(`execution #${res.data.id} started`);
    await draw();
    follow();
  });
  $("#block-add").addEventListener("click", async () => {
    const order = Number($("#block-add-order").value);
    if (!order) return;
    const res = await api("POST", `/api/blocks/${id}/members/`, { orders: [order] });
    if (!res.ok) { say((res.data && res.data.detail) || `failed (${res.status})`); return; }
    say(res.data.refused.length ? res.data.refused.map((r) => `#${r.order}: ${r.reason}`).join("; ") : `order #${order} joined`);
    await redraw();
  });
  root.addEventListener("click", async (ev) => {
    const order = ev.target.dataset && ev.target.dataset.remove;
    if (!order) return;
    if (!window.confirm(`Take order #${order} out of the block?`)) return;
    const res = await api("POST", `/api/blocks/${id}/remove/`, { order: Number(order) });
    if (!res.ok) say((res.data && res.data.detail) || `failed (${res.status})`);
    await redraw();
  });

  draw().then(follow);
}

function deskRow(b) {
  const x = b.execution;
  return el("tr", { "data-block": b.id },
    el("td", {}, el("a", { href: `/trader/blocks/${b.id}/` }, String(b.id))),
    el("td", {}, b.instrument), el("td", { class: `side-${b.side}` }, b.side), el("td", {}, b.allocation),
    el("td", {}, b.status), el("td", { class: "num" }, String(b.members.filter((m) => m.active).length)),
    el("td", {}, x ? progress(x.progress, `${x.strategy} ${x.status}`) : "–"),
  );
}

function mineRows(b) {
  return b.mine.map((m) => el("tr", { "data-block": b.id, "data-order": m.order },
    el("td", {}, String(b.id)),
    el("td", {}, el("a", { href: `/orders/${m.order}/` }, String(m.order))),
    el("td", {}, b.instrument), el("td", { class: `side-${b.side}` }, b.side),
    el("td", { class: "num" }, exact(m.order_quantity)),
    el("td", { class: "num cell-allocated" }, exact(m.allocated_quantity)),
    el("td", { class: "num cell-avg" }, m.average_price ? exact(m.average_price) : "–"),
    el("td", { class: "num cell-block-avg" }, b.average_price ? exact(b.average_price) : "–"),
    el("td", { class: "num cell-share" }, m.share === null ? "–" : pct(m.share)),
    el("td", {}, el("span", { class: `status s-${m.order_status}` }, m.order_status.replaceAll("_", " "))),
  ));
}

export function blockList(table, desk) {
  const body = table.tBodies[0];
  const draw = async () => {
    const res = await api("GET", "/api/blocks/?limit=100");
    if (!res.ok) throw new Error(`blocks snapshot: ${res.status}`);
    const rows = res.data.results || res.data;
    const drawn = desk ? rows.map(deskRow) : rows.flatMap(mineRows);
    body.replaceChildren(...(drawn.length ? drawn : [el("tr", { class: "empty" }, el("td", { colspan: 10, class: "muted" }, "No blocks."))]));
  };
  const redraw = refetcher(draw);
  live({ path: desk ? "/ws/executions/" : "/ws/orders/", snapshot: async () => { await draw(); return {}; }, apply: () => redraw() });
}
