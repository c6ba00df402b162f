/* The router's decision (strategy, costs, parameters, rationale): the PM's what-if and the
   order page's recommendation draw it the same way, with numbers for people. */
import { el, fmt } from "./shared.js";

export const number = (v, dp) => fmt(v, dp);
export const percent = (share) => {
  const p = Number(share) * 100;
  return `${p.toLocaleString(undefined, p > 0 && p < 1 ? { maximumSignificantDigits: 2 } : { maximumFractionDigits: 1 })}%`;
};
export function duration(seconds) {
  let s = Math.round(Number(seconds));
  if (s < 60) return `${s} s`;
  let m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  let h = Math.floor(m / 60); m %= 60;
  if (h < 24) return `${h} h ${String(m).padStart(2, "0")} min`;
  const d = Math.floor(h / 24); h %= 24;
  return `${d} d ${h} h ${String(m).padStart(2, "0")} min`;
}

function parameter(key, value) {
  const name = key.replaceAll("_", " ").replace(/ seconds$/, "");
  if (/seconds$/.test(key)) return `${name} ${duration(value)}`;
  if (/(rate|fraction|share)$/.test(key)) return `${name} ${percent(value)}`;
  if (typeof value === "number" || (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value))) return `${name} ${number(value)}`;
  return `${name} ${value}`;
}

export function renderDecision(node, rec) {
  node.replaceChildren(
    el("div", {}, el("span", { class: "strategy" }, rec.strategy), " ",
      el("span", { class: "muted" }, `est. cost ${fmt(rec.estimated_cost_bps, 1)} bps · risk ${fmt(rec.estimated_risk_bps, 1)} bps`)),
    el("div", { class: "muted" }, Object.entries(rec.parameters || {}).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => parameter(k, v)).join(" · ")),
    el("ul", { class: "rationale" }, ...(rec.rationale || []).map((r) => el("li", {}, r))),
  );
}
