/* The PM's order ticket: field hints, notional and share of ADV beside the quantity, the
   compliance preview and the router's what-if while typing (always for the inputs on
   screen, or a sentence saying why there is none), and submission: one order per ticket
   whatever the clicks (the ticket carries its client order id; a resend returns the same
   order), a confirmation for soft (fat-finger) limits. A submitted order is announced as an
   `order:changed` event on the document, which the blotter on the same page draws at once. */
import { api, el } from "./shared.js";
import { renderDecision, number, percent } from "./decision.js";

const ticketId = () => (crypto.randomUUID ? crypto.randomUUID() : `t-${Date.now()}-${Math.random().toString(16).slice(2)}`);

function formBody(form) {
  const f = new FormData(form), body = {};
  for (const [k, v] of f.entries()) if (v.trim() !== "") body[k] = v.trim();
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

function timesProblem(body) {
  if (body.start_time && body.end_time && new Date(body.end_time) <= new Date(body.start_time)) return "End time must be after the start time.";
  if (body.end_time && new Date(body.end_time) <= new Date()) return "This time is in the past; give a time ahead of now (UTC).";
  return "";
}

export function orderEntry(form) {
  const preview = form.querySelector("#preview"), whatif = form.querySelector("#whatif");
  const result = form.querySelector("#submit-result"), size = form.querySelector("#size-hint");
  const submit = form.querySelector("#submit-order");
  form.client_order_id.value = ticketId();
  const instrument = () => form.instrument.selectedOptions[0].dataset;
  const hints = () => {
    const i = instrument();
    form.querySelector("#lot-hint").textContent = `lot ${Number(i.lot)}`;
    form.querySelector("#tick-hint").textContent = `tick ${Number(i.tick)} · ref ${number(i.ref)}`;
  };
  const sizeHint = () => {
    const i = instrument(), body = formBody(form), qty = Number(body.quantity);
    if (!body.quantity || !(qty > 0)) { size.textContent = ""; return; }
    const px = Number(body.limit_price) > 0 ? Number(body.limit_price) : Number(i.ref);
    const notional = qty * px * Number(i.mult || 1);
    const adv = Number(i.adv);
    size.textContent = `notional ${number(notional, 0)}` + (adv > 0 ? ` · ${percent(qty / adv)} of ADV` : "");
  };
  const nothing = (why) => {
    preview.className = "preview muted"; preview.textContent = why; whatif.replaceChildren();
  };
  let timer, latest = 0;
  const refresh = () => {
    clearTimeout(timer);
    const mine = ++latest;  // any answer still on its way is for older inputs now
    sizeHint();
    const body = formBody(form);
    const times = timesProblem(body);
    showFieldErrors(form, times ? { end_time: times } : {});
    if (!body.quantity) { nothing("Enter a quantity to see the compliance check and the router's estimate."); return; }
    if (times) { nothing(`No estimate: ${times}`); return; }
    preview.className = "preview muted"; preview.textContent = "Checking…"; whatif.replaceChildren();
    timer = setTimeout(async () => {
      const [check, est] = await Promise.all([api("POST", "/api/orders/preview/", body), api("POST", "/api/pretrade/", body)]);
      if (mine !== latest) return;  // the PM typed on: an older answer must not overwrite a newer one
      if (check.status === 400) { showFieldErrors(form, check.data); nothing("No estimate: fix the highlighted fields."); preview.className = "preview bad"; return; }
      if (check.ok) {
        const d = check.data;
        preview.className = "preview " + (d.passes ? "ok" : d.needs_confirmation ? "warn" : "bad");
        preview.replaceChildren(d.passes ? "Compliance: passes all pre-trade rules."
          : el("div", {}, d.needs_confirmation ? "Compliance asks you to confirm:" : "Compliance would reject:",
            el("ul", {}, ...d.breaches.map((b) => el("li", {}, `${b.rule.replaceAll("_", " ").toLowerCase()}: ${b.message}`)))));
      } else { preview.className = "preview bad"; preview.textContent = `No compliance check: ${(check.data && check.data.detail) || `error ${check.status}`}.`; }
      if (est.ok) renderDecision(whatif, est.data);
      else whatif.replaceChildren(el("p", { class: "muted" }, `No estimate: ${(est.data && (est.data.detail || Object.values(est.data).flat().join(" "))) || `error ${est.status}`}`));
    }, 250);
  };
  form.addEventListener("input", refresh);
  form.instrument.addEventListener("change", () => { hints(); refresh(); });
  hints();

  let sending = false;
  const send = async (extra) => {
    const res = await api("POST", "/api/orders/", { ...formBody(form), ...extra });
    if (res.status === 400 && res.data && res.data.confirm && !extra.confirm) {
      const ok = window.confirm(`${res.data.confirm.join(" ")}\n\nEnter the order anyway?`);
      if (ok) return send({ confirm: true });
      result.textContent = "Not sent: not confirmed."; result.className = "neg";
      return;
    }
    if (res.status === 201) {
      result.textContent = `Order #${res.data.id} ${res.data.status}`;
      result.className = res.data.status === "REJECTED" ? "neg" : "pos";
      showFieldErrors(form, {});
      form.client_order_id.value = ticketId();  // a new ticket: the next submit is a new order
      document.dispatchEvent(new CustomEvent("order:changed", { detail: res.data }));
    } else if (res.status === 400) {
      result.textContent = "Not sent: fix the highlighted fields."; result.className = "neg";
      showFieldErrors(form, res.data);
    } else {
      result.textContent = (res.data && res.data.detail) || `Error ${res.status}`; result.className = "neg";
    }
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (sending) return;  // the same ticket is on its way
    sending = true; submit.disabled = true; result.textContent = "Submitting…"; result.className = "";
    try { await send({}); } finally { sending = false; submit.disabled = false; }
  });
}
