// Words and symbols for states and actions: every one reads without colour.
export const STATE_MARK = {
  pending: "◌", running: "▶", paused: "‖", promoting: "⇡", promoted: "✓",
  rolling_back: "↩", rolled_back: "✗", aborted: "■", failed: "⚠",
};
export const ACTION_MARK = { continue: "→", pause: "‖", promote: "✓", rollback: "✗" };

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function stateBadge(state) {
  const words = String(state).replace("_", " ");
  return el("span", { class: `badge state-${state}`, "data-state": state },
    `${STATE_MARK[state] || "?"} ${words}`);
}

export function actionBadge(action) {
  return el("span", { class: `badge action-${action}` }, `${ACTION_MARK[action] || "?"} ${action}`);
}

export function pct(x, digits = 1) {
  return x === null || x === undefined ? "–" : `${x.toFixed(digits)} %`;
}

export function num(x, digits = 2) {
  return x === null || x === undefined ? "–" : Number(x).toFixed(digits);
}

export function age(seconds) {
  if (seconds < 90) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

export function clock(ts) {
  return new Date(ts * 1000).toLocaleTimeString([], { hour12: false });
}

export const TERMINAL = new Set(["promoted", "rolled_back", "aborted"]);
