/* The router's decision (strategy, costs, parameters, rationale): the PM's what-if and the
   order page's recommendation draw it the same way. */
import { el, fmt } from "./shared.js";

export function renderDecision(node, rec) {
  node.replaceChildren(
    el("div", {}, el("span", { class: "strategy" }, rec.strategy), " ",
      el("span", { class: "muted" }, `est. cost ${fmt(rec.estimated_cost_bps, 1)} bps · risk ${fmt(rec.estimated_risk_bps, 1)} bps`)),
    el("div", { class: "muted" }, Object.entries(rec.parameters || {}).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k.replaceAll("_", " ")} ${v}`).join(" · ")),
    el("ul", { class: "rationale" }, ...(rec.rationale || []).map((r) => el("li", {}, r))),
  );
}
