// One rollout: its state and latest verdict, actions for operators, the weight and metric
// charts from the series endpoint, anomaly flags, example traces and the decision timeline.
import { request, stream } from "./api.js";
import { TimeChart, columns, stepped, style } from "./charts.js";
import { TERMINAL, actionBadge, age, clock, el, num, pct, stateBadge } from "./format.js";
import { MetricCard } from "./metrics.js";
import { timeline } from "./timeline.js";

const MAY_ACT = new Set(["operator", "admin"]);

export function showRollout(id, { main, caller, setLive, say }) {
  const points = {}; // metric -> cohort -> [[ts, value, low, high, flagged]]
  let after = 0;
  let rollout = null;
  let latest = null;
  let fetching = null;
  let again = false;
  const cards = new Map();
  const head = el("section", { class: "card head", id: "rollout-head" });
  const actions = el("section", { class: "card actions", id: "actions" });
  const reasons = el("section", { class: "card", id: "reasons" });
  const weightHost = el("div", { class: "chart", "data-chart": "weight" });
  const metricsHost = el("div", { class: "metrics" });
  const anomaly = el("section", { class: "card", id: "anomaly" });
  const traces = el("section", { class: "card", id: "traces", hidden: true });
  const events = el("section", { class: "card", id: "timeline" });
  main.replaceChildren(
    el("p", {}, el("a", { href: "#/" }, "← all rollouts")),
    head, actions, reasons,
    el("section", { class: "card" }, el("h2", {}, "Canary weight"), weightHost),
    el("h2", {}, "Metrics"), metricsHost, anomaly, traces, events,
  );
  const weightChart = new TimeChart(weightHost, {
    title: "canary weight over time (%)",
    series: [{ label: "canary weight %", ...style.weight, paths: stepped() }],
    y: { range: [0, 100], format: (v) => `${v} %` },
  });

  function drawHead() {
    const v = latest || {};
    const decided = rollout.lastModel ? ` · model ${rollout.lastModel}` : "";
    head.replaceChildren(
      el("h1", {}, `${rollout.service} `, el("span", { class: "muted" }, rollout.namespace)),
      el("p", {}, `${rollout.baseline_version} → ${rollout.canary_version}`, " · ",
        stateBadge(rollout.state), " · weight ", el("strong", { id: "weight" }, pct(rollout.weight, 0)),
        ` · risk ${num(v.risk)} · score ${num(v.score, 0)}`,
        ` · started ${age(Date.now() / 1000 - rollout.created_at)} ago by ${rollout.created_by}${decided}`),
    );
  }

  function drawActions() {
    if (!MAY_ACT.has(caller.role) || TERMINAL.has(rollout.state)) {
      actions.hidden = true;
      actions.replaceChildren();
      return;
    }
    actions.hidden = false;
    if (actions.childElementCount) return; // keep a reason being typed
    const reason = el("input", { id: "reason", name: "reason", required: true, maxlength: 2000,
      placeholder: "why (recorded in the audit)" });
    const button = (action, label) => el("button", { type: "submit", name: "action", value: action,
      "data-action": action }, label);
    actions.append(el("form", { onsubmit: act },
      el("h2", {}, "Act"), el("label", { for: "reason" }, "Reason"), reason,
      el("div", { class: "buttons" }, button("pause", "‖ Pause"), button("resume", "▶ Resume"),
        button("promote", "✓ Promote"), button("abort", "■ Abort"))));
  }

  async function act(event) {
    event.preventDefault();
    const action = event.submitter?.value;
    const reason = event.target.elements.reason.value.trim();
    if (!action || !reason) return;
    try {
      rollout = { ...rollout, ...(await request(`/v1/rollouts/${id}/actions`,
        { method: "POST", body: { action, reason } })) };
      say(`${action}: done`);
      event.target.reset();
      refresh();
    } catch (err) {
      say(`${action} refused: ${err.message}`);
    }
  }

  function drawVerdict() {
    const v = latest;
    reasons.replaceChildren(el("h2", {}, "Latest verdict"),
      v ? el("p", {}, actionBadge(v.action), ` at ${clock(v.ts)}`) : el("p", {}, "none yet"),
      v ? el("ul", { class: "reasons" }, (v.reasons || []).map((r) => el("li", {}, r))) : null);
    const a = v && v.anomaly;
    const flagged = [];
    for (const cohort of ["baseline", "canary"]) {
      for (const p of points[""]?.[`anomaly.${cohort}`] || []) if (p[4]) flagged.push([p[0], cohort, p[1]]);
    }
    anomaly.replaceChildren(el("h2", {}, "Anomaly flags (the service's learner)"),
      !a ? el("p", {}, "no learner judges this rollout")
        : el("p", {}, `baseline ${num(a.baseline)}${a.baseline_flag ? " ⚑ flagged" : ""} · `
          + `canary ${num(a.canary)}${a.canary_flag ? " ⚑ flagged" : ""} · `
          + `${a.learned} windows learned${a.warm ? "" : " (warming up)"}`),
      flagged.length ? el("ul", {}, flagged.slice(-10).map(([ts, cohort, score]) =>
        el("li", {}, `⚑ ${clock(ts)}: ${cohort} unlike the service's normal (${num(score)})`)))
        : el("p", { class: "muted" }, "no interval flagged"));
    const found = Object.values((v && v.traces) || {});
    traces.hidden = !found.length && !rollout.traces;
    traces.replaceChildren(el("h2", {}, "Example traces (Tempo)"),
      found.length ? el("ul", {}, found.map((f) => el("li", {}, `${f.metric}: ${f.what} `,
        f.error ? `(${f.error})` : f.links.length ? f.links.map((link) => el("a",
          { href: link.url, target: "_blank", rel: "noopener noreferrer" },
          `${link.trace_id.slice(0, 12)} (${num(link.duration_ms, 0)} ms)`)).flatMap((a) => [a, " "])
          : "none found")))
        : el("p", { class: "muted" }, "none yet: searched when a metric regresses"));
  }

  function drawSeries() {
    const w = points[""]?.weight || [];
    weightChart.set(columns(["w"], { w: w.map((p) => [p[0], p[1]]) }));
    for (const m of rollout.spec.metrics || []) {
      const evidence = (latest?.evidence || []).find((e) => e.metric === m.name);
      cards.get(m.name)?.update(points[m.name] || {}, evidence);
    }
  }

  async function fetchSeries() {
    if (fetching) { again = true; return fetching; }
    fetching = (async () => {
      let more = true;
      while (more) {
        const page = await request(`/v1/rollouts/${id}/series?after=${after}`);
        for (const [metric, cohorts] of Object.entries(page.series)) {
          points[metric] ||= {};
          for (const [cohort, list] of Object.entries(cohorts)) {
            (points[metric][cohort] ||= []).push(
              ...list.map((p) => [p.ts, p.value, p.low, p.high, p.flagged]));
          }
        }
        after = page.next;
        more = page.more;
      }
      drawSeries();
      drawVerdict();
    })().catch((err) => say(`Could not read the series: ${err.message}`))
      .finally(() => { fetching = null; if (again) { again = false; fetchSeries(); } });
    return fetching;
  }

  async function refresh() {
    const page = await request(`/v1/rollouts/${id}/events?limit=1000`);
    const decisions = page.items.filter((e) => e.decision);
    rollout.lastModel = decisions.length ? decisions.at(-1).decision.model_version : null;
    events.replaceChildren(el("h2", {}, "Decision timeline"), timeline(page.items));
    drawHead();
    drawActions();
  }

  async function load() {
    try {
      rollout = await request(`/v1/rollouts/${id}`);
      const answer = await request(`/v1/rollouts/${id}/verdict`);
      latest = answer.verdict;
      const quantiles = (await request(`/v1/rollouts/${id}/series?limit=1`)).latency_quantiles;
      for (const m of rollout.spec.metrics || []) cards.set(m.name, new MetricCard(metricsHost, m, quantiles[m.name]));
      await refresh();
      drawVerdict();
      await fetchSeries();
    } catch (err) {
      say(`Could not load rollout ${id}: ${err.message}`);
    }
  }

  let timer = null;
  function onMessage(message) {
    if (!rollout) return;
    if (message.type === "verdict") {
      latest = message;
      if (typeof message.weight === "number") rollout.weight = message.weight;
      drawHead();
      clearTimeout(timer);
      timer = setTimeout(fetchSeries, 150); // the tick's points are committed before it
    } else if (message.type === "state" || message.type === "traces" || message.type === "weight") {
      if (message.state) rollout.state = message.state;
      if (message.type === "weight") rollout.weight = message.weight;
      refresh().catch((err) => say(err.message));
    }
  }

  const live = stream(`/v1/rollouts/${id}/stream`, onMessage, setLive);
  load();
  return {
    close() {
      live.close();
      clearTimeout(timer);
      weightChart.destroy();
      for (const card of cards.values()) card.destroy();
    },
  };
}
