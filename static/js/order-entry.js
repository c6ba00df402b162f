/* The PM's order ticket: field hints, the compliance preview and the router's what-if while
   typing, and submission. A submitted order is announced as an `order:changed` event on the
   document, which the blotter on the same page draws at once. */
import { api, el } from "./shared.js";
import { renderDecision } from "./decision.js";

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

export function orderEntry(form) {
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
      document.dispatchEvent(new CustomEvent("order:changed", { detail: res.data }));
    } else if (res.status === 400) {
      result.textContent = "Not sent: fix the highlighted fields."; result.className = "neg";
      showFieldErrors(form, res.data);
    } else {
      result.textContent = (res.data && res.data.detail) || `Error ${res.status}`; result.className = "neg";
    }
  });
}
