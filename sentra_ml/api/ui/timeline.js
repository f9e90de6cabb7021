// The audit trail, newest first: decisions with their reasons and evidence, state changes with
// who and why, and the example traces found.
import { actionBadge, clock, el, num, pct } from "./format.js";

function evidenceTable(evidence) {
  if (!evidence || !evidence.length) return null;
  return el("table", { class: "evidence" },
    el("thead", {}, el("tr", {}, ["Metric", "Status", "Effect (CI)", "Risk", "Why"].map(
      (h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, evidence.map((e) => el("tr", {},
      el("td", {}, e.metric), el("td", {}, e.status),
      el("td", { class: "num" }, e.effect ? `${rel(e.effect.estimate)} (${rel(e.effect.low)} … ${rel(e.effect.high)})` : "–"),
      el("td", { class: "num" }, num(e.risk)), el("td", {}, e.summary)))));
}

function rel(x) {
  return x === null || x === undefined ? "∞" : `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)} %`;
}

function item(e) {
  const d = e.decision;
  if (d) {
    const verdict = d.verdict || {};
    return el("li", { class: "decision", "data-action": d.action },
      el("p", {}, el("time", {}, clock(e.ts)), " ", actionBadge(d.action),
        ` weight ${pct(d.weight, 0)} · risk ${num(d.risk)} · score ${num(d.score, 0)}`,
        el("span", { class: "muted" }, ` · ${e.actor} · ${d.model_version}`)),
      el("ul", { class: "reasons" }, (verdict.reasons || [e.reason]).map((r) => el("li", {}, r))),
      verdict.evidence && verdict.evidence.length
        ? el("details", {}, el("summary", {}, "evidence"), evidenceTable(verdict.evidence)) : null);
  }
  return el("li", { class: `event kind-${e.kind}` },
    el("p", {}, el("time", {}, clock(e.ts)), " ", el("strong", {}, e.kind.replace("_", " ")),
      `: ${e.reason}`, el("span", { class: "muted" }, ` · ${e.actor}`)));
}

export function timeline(items) {
  return el("ol", { class: "timeline", reversed: true }, [...items].reverse().map(item));
}
