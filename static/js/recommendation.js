/* The order page's router recommendation, loaded once. */
import { api, el } from "./shared.js";
import { renderDecision } from "./decision.js";

export async function recommendation(node) {
  const res = await api("GET", `/api/orders/${node.dataset.order}/recommendation/`);
  const slot = node.querySelector("div");
  if (res.ok) { const box = el("div"); renderDecision(box, res.data); slot.replaceWith(box); }
  else slot.textContent = (res.data && res.data.detail) || "No recommendation available.";
}
