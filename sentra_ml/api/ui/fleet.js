// The fleet: every rollout, filtered by service and state, kept live by the global stream.
import { request, stream } from "./api.js";
import { TERMINAL, age, el, num, pct, stateBadge } from "./format.js";

const STATES = ["pending", "running", "paused", "promoting", "promoted", "rolling_back",
  "rolled_back", "aborted", "failed"];

export function showFleet({ main, setLive, say }) {
  const rows = new Map(); // rollout id -> { data, tr }
  const filters = { service: "", state: "" };
  const body = el("tbody");
  const services = el("datalist", { id: "services" });
  const empty = el("p", { class: "empty", hidden: true }, "No rollouts match.");
  let refetch = null;

  const serviceInput = el("input", { id: "filter-service", list: "services", type: "search",
    placeholder: "any service", oninput: (e) => { filters.service = e.target.value.trim(); draw(); } });
  const stateSelect = el("select", { id: "filter-state",
    onchange: (e) => { filters.state = e.target.value; draw(); } },
  el("option", { value: "" }, "any state"),
  STATES.map((s) => el("option", { value: s }, s.replace("_", " "))));

  main.replaceChildren(
    el("h1", {}, "Rollouts"),
    el("div", { class: "filters" },
      el("label", { for: "filter-service" }, "Service"), serviceInput, services,
      el("label", { for: "filter-state" }, "State"), stateSelect),
    el("table", { class: "fleet", id: "fleet" },
      el("thead", {}, el("tr", {},
        ["Service", "Versions", "State", "Weight", "Risk", "Score", "Age"].map(
          (h) => el("th", { scope: "col" }, h)))),
      body),
    empty,
  );

  function render(r) {
    const latest = r.latest || {};
    return el("tr", { "data-rollout": r.id, "data-state": r.state },
      el("td", { "data-label": "Service" },
        el("a", { href: `#/rollouts/${r.id}` }, r.service),
        el("span", { class: "muted" }, ` ${r.namespace}`)),
      el("td", { "data-label": "Versions" }, `${r.baseline_version} → ${r.canary_version}`),
      el("td", { "data-label": "State" }, stateBadge(r.state)),
      el("td", { "data-label": "Weight", class: "num" }, pct(r.weight, 0)),
      el("td", { "data-label": "Risk", class: "num" }, num(latest.risk)),
      el("td", { "data-label": "Score", class: "num" }, num(latest.score, 0)),
      el("td", { "data-label": "Age", class: "num", "data-created": r.created_at },
        age(Date.now() / 1000 - r.created_at)));
  }

  function matches(r) {
    return (!filters.service || r.service === filters.service)
      && (!filters.state || r.state === filters.state);
  }

  function draw() {
    const shown = [...rows.values()].map((x) => x.data).filter(matches)
      .sort((a, b) => b.created_at - a.created_at);
    body.replaceChildren(...shown.map((r) => {
      const tr = render(r);
      rows.get(r.id).tr = tr;
      return tr;
    }));
    empty.hidden = shown.length > 0;
    services.replaceChildren(...[...new Set([...rows.values()].map((x) => x.data.service))]
      .sort().map((s) => el("option", { value: s })));
  }

  async function load() {
    const query = new URLSearchParams({ limit: "500" });
    try {
      const page = await request(`/v1/rollouts?${query}`);
      const known = new Map(rows);
      rows.clear();
      for (const r of page.items) {
        rows.set(r.id, { data: { ...r, latest: known.get(r.id)?.data.latest } });
      }
      draw();
      await latestVerdicts(page.items.filter((r) => !TERMINAL.has(r.state)).slice(0, 50));
    } catch (err) {
      say(`Could not list the rollouts: ${err.message}`);
    }
  }

  async function latestVerdicts(active) {
    await Promise.all(active.map(async (r) => {
      const answer = await request(`/v1/rollouts/${r.id}/verdict`).catch(() => null);
      const entry = rows.get(r.id);
      if (answer && answer.verdict && entry && !entry.data.latest) {
        onMessage({ type: "verdict", rollout_id: r.id, ...answer.verdict });
      }
    }));
  }

  function onMessage(message) {
    const entry = rows.get(message.rollout_id);
    if (!entry) { // a rollout created since: list again (once for a burst)
      clearTimeout(refetch);
      refetch = setTimeout(load, 300);
      return;
    }
    const r = entry.data;
    if (message.type === "state") r.state = message.state;
    if (message.type === "weight") r.weight = message.weight;
    if (message.type === "verdict") {
      r.latest = { risk: message.risk, score: message.score };
      if (typeof message.weight === "number") r.weight = message.weight;
    }
    const fresh = render(r);
    if (entry.tr && entry.tr.isConnected && matches(r)) entry.tr.replaceWith(fresh);
    else return draw();
    entry.tr = fresh;
  }

  const live = stream("/v1/stream", onMessage, setLive);
  const ticker = setInterval(() => {
    for (const td of body.querySelectorAll("td[data-created]")) {
      td.textContent = age(Date.now() / 1000 - Number(td.dataset.created));
    }
  }, 5000);
  load();
  return { close() { live.close(); clearInterval(ticker); clearTimeout(refetch); } };
}
