/* The RFQ ticket: sends POST /api/rfqs/ from an order (or a package: one net price per
   package unit, all-or-none or any-part-of) and opens the live ladder. */
import { api } from "./shared.js";

export function rfqTicket(form) {
  const errors = form.querySelector("#ticket-errors");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const body = form.dataset.package
      ? { package: Number(form.dataset.package), two_way: f.get("mode") === "two_way", execution_mode: f.get("execution_mode") }
      : { order: Number(form.dataset.order), two_way: f.get("mode") === "two_way" };
    if (form.dataset.package && f.get("min_trade_quantity")) body.min_trade_quantity = f.get("min_trade_quantity").trim();
    if (f.get("quantity")) body.quantity = f.get("quantity").trim();
    if (f.get("window_seconds")) body.window_seconds = Number(f.get("window_seconds"));
    if (f.get("auto_execute_price")) body.auto_execute_price = f.get("auto_execute_price").trim();
    if (f.get("auto_execute_bps")) body.auto_execute_bps = f.get("auto_execute_bps").trim();
    const picked = f.getAll("counterparty").map(Number);
    if (picked.length) body.counterparties = picked;
    errors.textContent = "";
    form.querySelector("button[type=submit]").disabled = true;
    const res = await api("POST", "/api/rfqs/", body);
    if (res.ok) { location.href = `/rfqs/${res.data.id}/`; return; }
    form.querySelector("button[type=submit]").disabled = false;
    const d = res.data || {};
    errors.textContent = d.detail || Object.entries(d).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ") || `Failed (${res.status})`;
  });
}
