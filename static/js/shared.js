/* Smart Trading desk, shared by every page: the REST call, DOM and number helpers, and the
   one live-feed helper every live widget uses. Writes go through the REST API with the
   session cookie and CSRF token; live data arrives over websockets. */

const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

export async function api(method, path, body) {
  const res = await fetch(path, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  return { ok: res.ok, status: res.status, data };
}

export const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return node;
};

export const fmt = (v, dp) => (v === null || v === undefined || v === "") ? "–"
  : Number(v).toLocaleString(undefined, { minimumFractionDigits: dp ?? 0, maximumFractionDigits: dp ?? 4 });

const STALE_RESTART = 3;  // this many old numbers in a row: the source restarted its count

/* A snapshot over REST, then websocket events carrying a `seq` per stream.
     path       websocket path, e.g. "/ws/orders/"
     snapshot   async (keys) => {stream: seq}: (re)draws from REST, everything when keys is
                null, else only those streams; returns the seq each stream's snapshot shows
                (omit a stream whose snapshot has none)
     apply      (message) => void: draws one event
     streamOf   (message) => stream key (default message.stream)
   A `{"type": "hello", "seqs": {...}}` message gives the streams' numbers as of subscription
   (null: nothing numbered yet).
   Events numbered up to what the snapshot (or hello) shows are dropped; the next number is
   applied; a gap re-fetches that stream's snapshot; a reconnect re-fetches everything.
   Events arriving while a snapshot loads wait and are then judged the same way. */
export function live({ path, snapshot, apply, streamOf = (m) => m.stream ?? "" }) {
  const last = new Map(), stale = new Map();
  let buffer = [], syncing = false, wanted = null, retry = 500;  // wanted: null, "all" or a Set

  const want = (keys) => {
    if (keys === null || wanted === "all") wanted = "all";
    else { wanted = wanted || new Set(); keys.forEach((k) => wanted.add(k)); }
    if (!syncing) sync();
  };

  async function sync() {
    syncing = true;
    while (wanted) {
      const keys = wanted === "all" ? null : [...wanted];
      wanted = null;
      try {
        const seqs = await snapshot(keys);
        for (const [stream, seq] of Object.entries(seqs || {})) last.set(stream, seq);
      } catch (e) {
        want(keys);  // try again shortly; events keep waiting meanwhile
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    syncing = false;
    for (const m of buffer.splice(0)) handle(m, true);  // a gap found here starts a new sync
  }

  function handle(m, waited = false) {
    if (m.type === "hello") {  // null: the stream has numbered nothing yet, its first event starts it
      for (const [s, q] of Object.entries(m.seqs || {})) if (q === null) last.delete(s); else last.set(s, q);
      return;
    }
    if (syncing) { buffer.push(m); return; }
    const s = streamOf(m), prev = last.get(s);
    if (prev === undefined || m.seq === prev + 1) {
      last.set(s, m.seq); stale.delete(s); apply(m);
    } else if (m.seq <= prev) {
      // Already in the snapshot. Events that waited for a slow snapshot are expected to be
      // old; only a restarted source keeps sending old numbers after it.
      if (waited) return;
      const n = (stale.get(s) || 0) + 1;
      stale.set(s, n);
      if (n >= STALE_RESTART) { stale.delete(s); last.delete(s); want([s]); }
    } else {
      // Missed something: the snapshot holds everything numbered up to this message.
      last.set(s, m.seq); want([s]);
    }
  }

  const open = () => {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
    ws.onopen = () => { retry = 500; last.clear(); stale.clear(); want(null); };
    ws.onmessage = (ev) => handle(JSON.parse(ev.data));
    ws.onclose = () => setTimeout(open, retry = Math.min(retry * 2, 10000));
  };
  open();
}
