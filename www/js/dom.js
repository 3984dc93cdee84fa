// Small helpers for building views: elements, formatting, badges, confirmation, polling.

/**
 * h("button.button#save", {type: "button", onclick}, "Save"): an element with classes and an id
 * from the tag string, attributes (on* become listeners; booleans toggle), and children (strings
 * become text nodes; null and false are skipped, arrays are flattened).
 */
export function h(spec, attrs = {}, ...children) {
  const [, tag, rest] = spec.match(/^([a-z0-9-]+)(.*)$/i);
  const el = document.createElement(tag);
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let uid = 0;
/** A unique id for label/for pairs inside views. */
export function uniqueId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled field: <div.field><label for>…</label>control hint</div>. */
export function field(labelText, control, hint) {
  if (!control.id) control.id = uniqueId("field");
  return h("div.field", {}, h("label", { for: control.id }, labelText, hint ? h("span.hint", {}, ` ${hint}`) : null), control);
}

/** A status message region (role=status, or role=alert for errors). */
export function messageBox(id) {
  return h("p.message", { id, role: "status" });
}

export function showMessage(box, text, kind = "info") {
  box.className = `message message-${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.textContent = text || "";
}

const UNITS = ["B", "KB", "MB", "GB", "TB"];
export function bytes(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return "—";
  let value = Number(n);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

export function seconds(s) {
  if (s === null || s === undefined || s === "" || Number.isNaN(Number(s))) return "—";
  const total = Number(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  const sec = rest < 10 ? `0${rest.toFixed(1)}` : rest.toFixed(1);
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

export function when(value) {
  if (value === null || value === undefined || value === "") return "—";
  const date = typeof value === "number" ? new Date(value) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** <time datetime> showing a local date and time. */
export function timeEl(value) {
  if (value === null || value === undefined || value === "") return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return h("time", { datetime: date.toISOString() }, when(date));
}

const KINDS = {
  ready: "ok", success: "ok", completed: "ok", Completed: "ok",
  pending: "info", Pending: "info", paused: "info", queued: "info",
  processing: "warn", running: "warn", downloading: "warn", Processing: "warn", started: "warn",
  failed: "bad", Failed: "bad", Cancelled: "bad", cancelled: "bad", expired: "bad",
};
export function badge(status) {
  return h(`span.badge.badge-${KINDS[status] || "plain"}`, {}, status);
}

/**
 * Asks a question in a real <dialog> (not window.confirm); resolves true when the person confirms.
 * The dialog lives inside <main> so it stays within a landmark, and is removed afterwards.
 */
export function confirmDialog(question, confirmLabel = "Delete") {
  return new Promise((resolve) => {
    const yes = h("button.button.button-danger#confirm-yes", { type: "submit", value: "yes" }, confirmLabel);
    const no = h("button.button.button-quiet#confirm-no", { type: "submit", value: "no" }, "Cancel");
    const dialog = h("dialog#confirm-dialog", { "aria-labelledby": "confirm-question" },
      h("form", { method: "dialog" },
        h("p#confirm-question", {}, question),
        h("div.actions", {}, yes, no)));
    dialog.addEventListener("close", () => {
      const answer = dialog.returnValue === "yes";
      dialog.remove();
      resolve(answer);
    });
    (document.getElementById("main") || document.body).append(dialog);
    dialog.showModal();
    no.focus();
  });
}

/**
 * Calls `tick` now and then every 2 s while it resolves true (something on screen is pending or
 * running) and the view is still shown; `stop()` ends it. `kick()` restarts a stopped poller.
 */
export function poller(tick, interval = 2000) {
  let timer = null;
  let stopped = false;
  let running = false;
  async function run() {
    timer = null;
    if (stopped || running) return;
    running = true;
    let again = false;
    try { again = await tick(); } catch { again = false; }
    running = false;
    if (again && !stopped) timer = setTimeout(run, interval);
  }
  return {
    kick() { if (!stopped && timer === null && !running) run(); },
    later() { if (!stopped && timer === null && !running) timer = setTimeout(run, interval); },
    stop() { stopped = true; if (timer) clearTimeout(timer); timer = null; },
    get active() { return timer !== null || running; },
  };
}

/** A card section with an h2. */
export function section(title, ...children) {
  const id = uniqueId("section");
  return h("section.card", { "aria-labelledby": id }, h("h2", { id }, title), children);
}

/** A view's top line: the h1 and an optional note or toolbar. */
export function viewHead(title, ...extra) {
  return h("div.view-head", {}, h("h1", {}, title), extra);
}

/** A table whose cells carry their column name (data-label) for the phone layout. */
export function table(caption, columns, rows, { id } = {}) {
  return h("div.table-wrap", {},
    h("table.stack", { id },
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h(`th${c.num ? ".num" : ""}`, { scope: "col" }, c.label)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell, i) =>
        h(`td${columns[i].num ? ".num" : ""}`, { "data-label": columns[i].label }, h("div.cell", {}, cell))))))));
}

/** Fills `box` with Previous / "Page N of M" / Next for a list envelope; `go(page)` loads a page. */
export function pagerControls(box, envelope, go, idPrefix, noun) {
  const { page, per_page: perPage, total, has_more: hasMore } = envelope;
  const pages = Math.max(1, Math.ceil(total / perPage));
  box.replaceChildren(
    h(`button.button.button-quiet.button-small#${idPrefix}-prev`, { type: "button", disabled: page <= 1, onclick: () => go(page - 1) }, "Previous"),
    h("span.muted", {}, `Page ${page} of ${pages} · ${total} ${noun}${total === 1 ? "" : "s"}`),
    h(`button.button.button-quiet.button-small#${idPrefix}-next`, { type: "button", disabled: !hasMore, onclick: () => go(page + 1) }, "Next"));
}
