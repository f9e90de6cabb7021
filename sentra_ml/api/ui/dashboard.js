// The dashboard: log in, then the fleet (#/) or one rollout (#/rollouts/<id>).
import { ApiError, request, token } from "./api.js";
import { el } from "./format.js";
import { showFleet } from "./fleet.js";
import { showRollout } from "./rollout.js";

const main = document.getElementById("main");
const notice = document.getElementById("notice");
let current = null; // the view on screen: { close() }
let caller = null;

export function say(text) {
  notice.textContent = text;
  notice.hidden = !text;
}

function setLive(state) {
  const live = document.getElementById("live");
  live.textContent = state === "live" ? "● live" : `○ ${state}`;
  live.dataset.state = state;
}

function showLogin(problem) {
  main.replaceChildren(
    el("form", { class: "login", id: "login", onsubmit: login },
      el("h1", {}, "Log in"),
      el("p", {}, "An API token (sentra token create). It is kept in this tab only, until you "
        + "log out or close the tab. Leave it empty if the service runs without auth."),
      el("label", { for: "token" }, "API token"),
      el("input", { id: "token", name: "token", type: "password", autocomplete: "off" }),
      el("button", { type: "submit" }, "Log in"),
      problem ? el("p", { class: "error", role: "alert" }, problem) : null),
  );
}

async function login(event) {
  event.preventDefault();
  token.set(event.target.elements.token.value.trim());
  await start(true);
}

// Asks who the token is; without one (and not asked to try) it shows the login form first,
// so a fresh tab makes no request that fails.
async function start(tried = false) {
  if (!token.get() && !tried) {
    showLogin("");
    return;
  }
  try {
    caller = await request("/v1/me");
  } catch (err) {
    const refused = err instanceof ApiError && err.status === 401;
    token.clear();
    showLogin(refused ? `Refused: ${err.message}` : `The service did not answer: ${err.message}`);
    return;
  }
  document.getElementById("who").textContent = `${caller.name} (${caller.role})`;
  document.getElementById("logout").hidden = !token.get();
  route();
}

function route() {
  if (!caller) return;
  if (current) current.close();
  say("");
  const match = location.hash.match(/^#\/rollouts\/([A-Za-z0-9]+)$/);
  const context = { main, caller, setLive, say };
  current = match ? showRollout(match[1], context) : showFleet(context);
}

document.getElementById("logout").addEventListener("click", () => {
  token.clear();
  caller = null;
  if (current) current.close();
  current = null;
  document.getElementById("who").textContent = "";
  document.getElementById("logout").hidden = true;
  showLogin("");
});
window.addEventListener("hashchange", route);
start();
