/* The PM's multi-leg ticket: a template fills the legs (rights, sides, ratios, strikes and
   expiries ranked on the chosen underlying's chain); custom legs are instrument, side and
   ratio. Submits POST /api/packages/ and shows every leg's order with its status. */
import { api, el, fmt } from "./shared.js";

const json = (id) => JSON.parse(document.getElementById(id).textContent);

// Pick the chain's options for a template: strikes ranked around the money, expiries nearest first.
function legsFor(template, chain, underlying) {
  const opts = chain.filter((o) => o.underlying === underlying);
  const expiries = [...new Set(opts.map((o) => o.expiry))].sort();
  const strikesOf = (right, expiry) => [...new Set(opts.filter((o) => o.expiry === expiry).map((o) => Number(o.strike)))].sort((a, b) => a - b);
  const nStrikes = new Set(template.legs.map((l) => l.strike)).size;
  const nExp = new Set(template.legs.map((l) => l.expiry)).size;
  // Strikes that every right the template needs has, at the nearest expiry (and the others for a calendar).
  const shared = (exps) => {
    let common = null;
    for (const exp of exps) for (const right of new Set(template.legs.map((l) => l.right))) {
      const s = new Set(opts.filter((o) => o.expiry === exp && o.right === right).map((o) => Number(o.strike)));
      common = common === null ? s : new Set([...common].filter((x) => s.has(x)));
    }
    return [...(common || [])].sort((a, b) => a - b);
  };
  const exps = expiries.slice(0, nExp);
  let strikes = [];
  if (nStrikes === 1) strikes = shared(exps).slice(0, 1);
  else {
    // Several strikes: each leg's right must exist at its strike; choose consecutive strikes of the chain.
    const all = strikesOf(null, exps[0]);
    for (let i = 0; i + nStrikes <= all.length; i++) {
      const pick = all.slice(i, i + nStrikes);
      const ok = template.legs.every((l) => opts.some((o) => o.expiry === exps[l.expiry] && o.right === l.right && Number(o.strike) === pick[l.strike]));
      if (ok) { strikes = pick; break; }
    }
  }
  return template.legs.map((l) => {
    const o = opts.find((x) => x.expiry === exps[l.expiry] && x.right === l.right && Number(x.strike) === strikes[l.strike]);
    return { instrument: o ? o.symbol : "", side: l.side, ratio: String(l.ratio) };
  });
}

export function packageTicket(form) {
  const templates = json("package-templates"), chain = json("option-chain");
  const body = form.querySelector("#package-legs tbody");
  const result = document.getElementById("package-result");

  const row = (leg = { instrument: "", side: "BUY", ratio: "1" }) => {
    const side = el("select", { name: "leg-side" }, el("option", {}, "BUY"), el("option", {}, "SELL"));
    side.value = leg.side;
    const tr = el("tr", { class: "leg" },
      el("td", { class: "leg-index" }, ""),
      el("td", {}, el("input", { name: "leg-instrument", list: "instrument-symbols", value: leg.instrument, size: 22 })),
      el("td", {}, side),
      el("td", { class: "num" }, el("input", { name: "leg-ratio", value: leg.ratio, size: 4, inputmode: "numeric" })),
      el("td", {}, el("button", { type: "button", class: "small remove-leg" }, "Remove")));
    body.append(tr);
    renumber();
  };
  const renumber = () => body.querySelectorAll("tr").forEach((tr, i) => { tr.querySelector(".leg-index").textContent = String(i + 1); });
  const fill = () => {
    const key = form.elements.template.value;
    body.replaceChildren();
    if (!key) { row(); row(); return; }
    legsFor(templates[key], chain, form.elements.underlying.value).forEach(row);
  };
  form.elements.template.addEventListener("change", fill);
  form.elements.underlying.addEventListener("change", fill);
  form.querySelector("#add-leg").addEventListener("click", () => row());
  body.addEventListener("click", (ev) => { if (ev.target.classList.contains("remove-leg")) { ev.target.closest("tr").remove(); renumber(); } });
  fill();

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    form.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; });
    form.querySelector("#package-errors").textContent = "";
    const legs = [...body.querySelectorAll("tr")].map((tr) => ({
      instrument: tr.querySelector("[name=leg-instrument]").value.trim(),
      side: tr.querySelector("[name=leg-side]").value,
      ratio: tr.querySelector("[name=leg-ratio]").value.trim(),
    }));
    const payload = {
      portfolio: Number(form.elements.portfolio.value), quantity: form.elements.quantity.value.trim(),
      template: form.elements.template.value, urgency: form.elements.urgency.value, legs,
      hedge: form.elements.hedge.checked, allow_leg_work: form.elements.allow_leg_work.checked,
    };
    const submit = form.querySelector("#submit-package");
    submit.disabled = true;
    const res = await api("POST", "/api/packages/", payload);
    submit.disabled = false;
    if (!res.ok) {
      const d = res.data || {};
      for (const [k, v] of Object.entries(d)) {
        const slot = form.querySelector(`.field-error[data-for="${k}"]`);
        const text = Array.isArray(v) ? v.map((x) => (typeof x === "object" ? JSON.stringify(x) : x)).join(" ") : (typeof v === "object" ? JSON.stringify(v) : String(v));
        if (slot) slot.textContent = text; else form.querySelector("#package-errors").textContent += `${k}: ${text} `;
      }
      return;
    }
    const p = res.data;
    result.replaceChildren(el("div", { class: "panel", id: "package-done", "data-package": p.id },
      el("h3", {}, `Package #${p.id} `, el("span", { class: `status s-${p.status}`, id: "package-status" }, p.status),
        ` · ${fmt(p.quantity)} units · net premium ${fmt(p.net_premium, 2)} · net delta ${fmt(p.net_delta, 2)} · net vega ${fmt(p.net_vega, 2)}`),
      el("table", { class: "dense", id: "package-orders" },
        el("thead", {}, el("tr", {}, el("th", {}, "Order"), el("th", {}, "Instrument"), el("th", {}, "Side"), el("th", { class: "num" }, "Qty"), el("th", {}, "Leg"), el("th", {}, "Status"), el("th", {}, "Reasons"))),
        el("tbody", {}, ...p.orders.map((o, i) => el("tr", { "data-order": o.id },
          el("td", {}, el("a", { href: `/orders/${o.id}/` }, `#${o.id}`)), el("td", {}, o.instrument),
          el("td", { class: `side-${o.side}` }, o.side), el("td", { class: "num" }, fmt(o.quantity)),
          el("td", {}, p.legs[i].is_hedge ? "delta hedge" : `ratio ${fmt(p.legs[i].ratio)}`),
          el("td", {}, el("span", { class: `status s-${o.status}` }, o.status)),
          el("td", { class: "muted" }, (o.rejection_reasons || []).map((r) => r.message).join("; ")))))),
    ));
  });
}
