/* Start an execution of one order: the router's recommendation, or the trader's override of
   the strategy and its main parameters. On success, go to the execution's page. */
import { api } from "./shared.js";

const NUMBER_PARAMETERS = ["horizon_seconds", "participation_rate", "display_quantity"];

export function executionTicket(form) {
  const result = form.querySelector("#start-result");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const data = new FormData(form), body = { order: Number(form.dataset.order) }, parameters = {};
    if (data.get("strategy")) body.strategy = data.get("strategy");
    for (const name of NUMBER_PARAMETERS) {
      const value = String(data.get(name) || "").trim();
      if (value) parameters[name] = Number(value);
    }
    if (Object.keys(parameters).length) body.parameters = parameters;
    const res = await api("POST", "/api/executions/", body);
    if (res.ok) { location.assign(`/executions/${res.data.id}/`); return; }
    button.disabled = false;
    const errors = res.data || {};
    result.textContent = errors.detail || Object.entries(errors).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ")
      || `Not started (${res.status}).`;
  });
}
