// The service's API: the token lives in sessionStorage (this tab only) and travels in the
// Authorization header; the streams get it as their first message, never in a URL.
const KEY = "sentra.token";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export const token = {
  get: () => sessionStorage.getItem(KEY) || "",
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

function detailOf(body, status) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) {
    return body.detail.map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`).join("; ");
  }
  return `HTTP ${status}`;
}

export async function request(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const secret = token.get();
  if (secret) headers.Authorization = `Bearer ${secret}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, detailOf(data, response.status));
  return data;
}

// A stream that reconnects after a drop (with backoff) until `close()`; `onState` hears
// "live", "reconnecting" or a refusal's reason.
export function stream(path, onMessage, onState) {
  let socket = null;
  let closed = false;
  let delay = 500;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const open = () => {
    socket = new WebSocket(`${scheme}//${location.host}${path}?auth=message`);
    socket.onopen = () => {
      socket.send(JSON.stringify({ token: token.get() }));
      delay = 500;
      onState("live");
    };
    socket.onmessage = (event) => {
      try {
        onMessage(JSON.parse(event.data));
      } catch (err) {
        console.warn("a stream message was not understood", err);
      }
    };
    socket.onclose = (event) => {
      if (closed) return;
      if (event.code === 1008 || event.code === 4404) {
        onState(`refused: ${event.reason}`);
        return;
      }
      onState("reconnecting");
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 10000);
    };
  };
  open();
  return {
    close() {
      closed = true;
      if (socket) socket.close();
    },
  };
}
