/* Smart Trading desk: small helpers for the server-rendered pages. Writes go through the
   REST API with the session cookie and CSRF token; live data over websockets. */
const Desk = (() => {
  const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

  async function api(method, path, body) {
    const res = await fetch(path, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return { ok: res.ok, status: res.status, data };
  }

  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
    return node;
  };
  const fmt = (v, dp) => (v === null || v === undefined || v === "") ? "–" : Number(v).toLocaleString(undefined, { minimumFractionDigits: dp ?? 0, maximumFractionDigits: dp ?? 4 });

  function socket(path, onMessage) {
    let ws, retry = 500;
    const open = () => {
      ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
      ws.onmessage = (ev) => { retry = 500; onMessage(JSON.parse(ev.data)); };
      ws.onclose = () => setTimeout(open, retry = Math.min(retry * 2, 10000));
    };
    open();
  }

  function formBody(form) {
    const f = new FormData(form), body = {};
    for (const [k, v] of f.entries()) if (v !== "") body[k] = v;
    if (body.portfolio) body.portfolio = Number(body.portfolio);
    for (const k of ["start_time", "end_time"]) if (body[k]) body[k] += "Z";  // the desk works in UTC
    return body;
  }

  function showFieldErrors(form, errors) {
    form.querySelectorAll(".field-error").forEach((n) => (n.textContent = ""));
    for (const [field, msgs] of Object.entries(errors || {})) {
      const slot = form.querySelector(`.field-error[data-for="${field}"]`);
      const text = Array.isArray(msgs) ? msgs.join(" ") : String(msgs);
      if (slot) slot.textContent = text; else form.querySelector("#submit-result").textContent = text;
    }
  }

  function renderDecision(node, rec) {
    node.replaceChildren(
      el("div", {}, el("span", { class: "strategy" }, rec.strategy), " ",
        el("span", { class: "muted" }, `est. cost ${fmt(rec.estimated_cost_bps, 1)} bps · risk ${fmt(rec.estimated_risk_bps, 1)} bps`)),
      el("div", { class: "muted" }, Object.entries(rec.parameters || {}).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k.replaceAll("_", " ")} ${v}`).join(" · ")),
      el("ul", { class: "rationale" }, ...(rec.rationale || []).map((r) => el("li", {}, r))),
    );
  }

  function orderEntry(form) {
    const preview = form.querySelector("#preview"), whatif = form.querySelector("#whatif");
    const result = form.querySelector("#submit-result");
    const hints = () => {
      const opt = form.instrument.selectedOptions[0];
      form.querySelector("#lot-hint").textContent = `lot ${Number(opt.dataset.lot)}`;
      form.querySelector("#tick-hint").textContent = `tick ${Number(opt.dataset.tick)} · ref ${Number(opt.dataset.ref)}`;
    };
    let timer, latest = 0;
    const refresh = () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const body = formBody(form);
        if (!body.quantity) return;
        const mine = ++latest;
        const [check, est] = await Promise.all([api("POST", "/api/orders/preview/", body), api("POST", "/api/pretrade/", body)]);
        if (mine !== latest) return;  // the PM typed on: an older answer must not overwrite a newer one
        if (check.status === 400) { showFieldErrors(form, check.data); preview.className = "preview bad"; preview.textContent = "Fix the highlighted fields."; whatif.replaceChildren(); return; }
        showFieldErrors(form, {});
        if (check.ok) {
          preview.className = "preview " + (check.data.passes ? "ok" : "bad");
          preview.replaceChildren(check.data.passes ? "Compliance: passes all pre-trade rules."
            : el("div", {}, "Compliance would reject:", el("ul", {}, ...check.data.breaches.map((b) => el("li", {}, `${b.rule}: ${b.message}`)))));
        }
        if (est.ok) renderDecision(whatif, est.data); else whatif.replaceChildren();
      }, 250);
    };
    form.addEventListener("input", refresh);
    form.instrument.addEventListener("change", hints);
    hints();
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      result.textContent = "Submitting…";
      const res = await api("POST", "/api/orders/", formBody(form));
      if (res.status === 201) {
        result.textContent = `Order #${res.data.id} ${res.data.status}`;
        result.className = res.data.status === "REJECTED" ? "neg" : "pos";
        showFieldErrors(form, {});
        Desk.refreshBlotter && Desk.refreshBlotter();
      } else if (res.status === 400) {
        result.textContent = "Not sent: fix the highlighted fields."; result.className = "neg";
        showFieldErrors(form, res.data);
      } else {
        result.textContent = (res.data && res.data.detail) || `Error ${res.status}`; result.className = "neg";
      }
    });
  }

  function orderRow(o) {
    const pct = Number(o.filled_percent || 0);
    const tr = el("tr", { "data-order": o.id },
      el("td", {}, el("a", { href: `/orders/${o.id}/` }, String(o.id))),
      el("td", {}, new Date(o.created_at).toISOString().slice(11, 19)),
      el("td", {}, o.portfolio_name), el("td", {}, o.instrument),
      el("td", { class: `side-${o.side}` }, o.side), el("td", { class: "num" }, fmt(o.quantity)),
      el("td", { class: "num" }, o.limit_price ? fmt(o.limit_price) : "MKT"), el("td", {}, o.urgency),
      el("td", { class: "cell-status" }, el("span", { class: `status s-${o.status}` }, o.status.replace("_", " ")),
        ...(o.rejection_reasons || []).length ? [el("div", { class: "reasons" }, ...o.rejection_reasons.map((r) => el("div", {}, r.message)))] : []),
      el("td", { class: "cell-progress" }, el("div", { class: "progress", title: `${o.filled_quantity} of ${o.quantity}` },
        el("div", { class: "bar", style: `width:${pct}%` }), el("span", {}, `${pct.toFixed(1)}%`))),
      el("td", { class: "num cell-avg" }, o.average_fill_price ? fmt(o.average_fill_price) : "–"),
      el("td", { class: "num" }, o.arrival_price ? fmt(o.arrival_price) : "–"),
      el("td", {}, ["NEW", "ACCEPTED", "WORKING", "PARTIALLY_FILLED"].includes(o.status)
        ? el("button", { class: "small cancel", "data-cancel": o.id }, "Cancel") : ""),
    );
    return tr;
  }

  function liveBlotter(table) {
    const body = table.tBodies[0];
    table.addEventListener("click", async (ev) => {
      const id = ev.target.dataset && ev.target.dataset.cancel;
      if (!id) return;
      ev.target.disabled = true;
      const res = await api("POST", `/api/orders/${id}/cancel/`);
      if (!res.ok) alert((res.data && res.data.detail) || `Cancel failed (${res.status})`);
      refresh();
    });
    async function refresh() {
      const res = await api("GET", "/api/orders/?limit=100");
      if (!res.ok) return;
      const rows = res.data.results || res.data;
      body.replaceChildren(...(rows.length ? rows.map(orderRow) : [el("tr", { class: "empty" }, el("td", { colspan: 13, class: "muted" }, "No orders yet."))]));
    }
    Desk.refreshBlotter = refresh;
    setInterval(refresh, 2000);
  }

  async function recommendation(node) {
    const res = await api("GET", `/api/orders/${node.dataset.order}/recommendation/`);
    const slot = node.querySelector("div");
    if (res.ok) { const box = el("div"); renderDecision(box, res.data); slot.replaceWith(box); }
    else slot.textContent = (res.data && res.data.detail) || "No recommendation available.";
  }

  function marketOverview(table) {
    for (const tr of table.tBodies[0].rows) {
      const ref = Number(tr.dataset.ref);
      const cell = (c) => tr.querySelector(c);
      socket(`/ws/marketdata/${tr.dataset.symbol}/`, (b) => {
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
      });
    }
  }

  function depthLadder(panel) {
    const rows = panel.querySelector("#ladder-rows"), venues = document.getElementById("venues");
    let lastSeq = 0;
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
    socket(`/ws/marketdata/${panel.dataset.symbol}/`, async (b) => {
      // A gap (or a publisher restart) means we missed books: take the snapshot, then go on.
      if (lastSeq && b.seq !== lastSeq + 1) {
        const snap = await api("GET", `/api/marketdata/${encodeURIComponent(panel.dataset.symbol)}/`);
        if (snap.ok && snap.data.seq > b.seq) b = snap.data;
      }
      lastSeq = b.seq;
      render(b);
    });
  }

  return { api, orderEntry, liveBlotter, recommendation, marketOverview, depthLadder, refreshBlotter: null };
})();
