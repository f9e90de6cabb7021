// One metric's charts: canary and baseline per interval (with the SLO line), and the effect
// with its confidence interval, the tolerance band and the forecast with its band.
import { TimeChart, columns, style } from "./charts.js";
import { el } from "./format.js";

const percent = (v) => (v === null ? "" : `${(v * 100).toFixed(Math.abs(v) < 0.1 ? 1 : 0)} %`);

function valueFormat(metric) {
  if (metric.kind === "ratio") return percent;
  return (v) => (v === null ? "" : Number(v).toPrecision(3));
}

function toleranceLines(metric) {
  const tol = metric.tolerance ?? 0.1;
  const direction = metric.direction || "increase";
  const lines = [];
  if (direction !== "decrease") lines.push(["tolerance +", tol]);
  if (direction !== "increase") lines.push(["tolerance −", -tol]);
  return lines;
}

export class MetricCard {
  constructor(host, metric, quantile) {
    this.metric = metric;
    const what = metric.kind === "ratio" ? "error ratio"
      : metric.kind === "latency" ? `p${+(quantile * 100).toFixed(2)}` : "mean";
    this.summary = el("p", { class: "summary" }, "waiting for the first verdict");
    const values = el("div", { class: "chart", "data-chart": `values:${metric.name}` });
    const effect = el("div", { class: "chart", "data-chart": `effect:${metric.name}` });
    host.append(el("section", { class: "card metric", "data-metric": metric.name },
      el("h3", {}, `${metric.name} `, el("span", { class: "muted" }, `${metric.kind}, ${what}`)),
      this.summary, values, effect));
    const slo = metric.slo ? metric.slo.objective : null;
    this.slo = slo;
    this.values = new TimeChart(values, {
      title: `${metric.name}: canary and baseline (${what})`,
      series: [
        { label: "baseline (solid)", ...style.baseline },
        { label: "canary (dashed)", ...style.canary },
        ...(slo === null ? [] : [{ label: `SLO ${valueFormat(metric)(slo)}`, ...style.guide }]),
      ],
      y: { format: valueFormat(metric) },
    });
    this.tolerance = toleranceLines(metric);
    this.effect = new TimeChart(effect, {
      title: `${metric.name}: canary vs baseline, relative`,
      series: [
        { label: "effect", ...style.effect },
        { label: "CI high", ...style.band },
        { label: "CI low", ...style.band },
        { label: "forecast", ...style.forecast },
        { label: "forecast high", ...style.band, stroke: "rgba(109,40,217,0.4)" },
        { label: "forecast low", ...style.band, stroke: "rgba(109,40,217,0.4)" },
        ...this.tolerance.map(([label]) => ({ label, ...style.guide })),
      ],
      bands: [[2, 3, "rgba(194,65,12,0.12)"], [5, 6, "rgba(109,40,217,0.10)"]],
      y: { format: percent },
    });
  }

  update(cohorts, evidence) {
    const pick = (name, field = 1) => (cohorts[name] || []).map((p) => [p[0], p[field]]);
    const byName = { baseline: pick("baseline"), canary: pick("canary") };
    const names = ["baseline", "canary"];
    const valueCols = columns(names, byName);
    if (this.slo !== null) valueCols.push(valueCols[0].map(() => this.slo));
    this.values.set(valueCols);
    const effect = {
      effect: pick("effect"), high: pick("effect", 3), low: pick("effect", 2),
      forecast: pick("forecast"), fhigh: pick("forecast", 3), flow: pick("forecast", 2),
    };
    const effectNames = ["effect", "high", "low", "forecast", "fhigh", "flow"];
    const cols = columns(effectNames, effect);
    for (const [, tol] of this.tolerance) cols.push(cols[0].map(() => tol));
    this.effect.set(cols);
    if (evidence) {
      this.summary.textContent = `${evidence.status}: ${evidence.summary}`;
      this.summary.dataset.status = evidence.status;
    }
  }

  destroy() {
    this.values.destroy();
    this.effect.destroy();
  }
}
