// Talking to Fetchgate from the page: the token (sessionStorage only, sent as X-API-KEY on every
// request, never in a URL), JSON and store-XML requests, uploads with progress, signed links.

const TOKEN_KEY = "fetchgate.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** A failed request: the HTTP status, the dialect's error code (if any) and its message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// No request carries cookies or HTTP credentials: the token header is the only credential, and
// "omit" keeps the browser from opening its Basic prompt on the store's 401 (WWW-Authenticate).
const CREDENTIALS = "omit";

function headers(extra = {}) {
  const h = { ...extra };
  const t = token();
  if (t) h["X-API-KEY"] = t;
  return h;
}

// Reads the error of a JSON dialect: {"error": {code, message}} (fetch, files, jobs) or {"detail"}.
async function jsonError(response) {
  let code = null;
  let message = `The server answered ${response.status}.`;
  try {
    const body = await response.json();
    if (body && body.error && typeof body.error === "object") {
      code = body.error.code || null;
      message = body.error.message || message;
    } else if (body && typeof body.detail === "string") {
      message = body.detail;
    }
  } catch {
    // Not JSON (nginx's own page): keep the status.
  }
  return failed(response.status, code, message);
}

// Every failure goes through here: a 401 while signed in means the token was revoked.
function failed(status, code, message) {
  if (status === 401 && token()) window.dispatchEvent(new Event("fetchgate:unauthorized"));
  return new ApiError(status, code, message);
}

/** A JSON dialect request; resolves to the parsed body, rejects with an ApiError. */
export async function api(method, path, body) {
  const init = { method, credentials: CREDENTIALS, headers: headers({ Accept: "application/json" }) };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, "offline", "The server could not be reached.");
  }
  if (!response.ok) throw await jsonError(response);
  if (response.status === 204) return null;
  return response.json();
}

/** A store request (through /store/api/ on this origin); resolves to the XML document. */
export async function store(method, path, xmlBody, { credentials = true } = {}) {
  const init = {
    method, credentials: CREDENTIALS, headers: credentials ? headers({ Accept: "application/xml" }) : { Accept: "application/xml" },
  };
  if (xmlBody !== undefined) {
    init.headers["Content-Type"] = "application/xml";
    init.body = xmlBody;
  }
  let response;
  try {
    response = await fetch(`/store/api/${path}`, init);
  } catch {
    throw new ApiError(0, "offline", "The server could not be reached.");
  }
  const text = await response.text();
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (!response.ok) {
    const message = doc.querySelector("message")?.textContent?.trim() || `The server answered ${response.status}.`;
    throw failed(response.status, null, message);
  }
  return doc;
}

/** An upload of one file to POST /files with progress (XMLHttpRequest's upload.onprogress). */
export function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/files");
    const t = token();
    if (t) xhr.setRequestHeader("X-API-KEY", t);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
      } else {
        const error = body && body.error ? body.error : {};
        reject(new ApiError(xhr.status, error.code || null, error.message || `The server answered ${xhr.status}.`));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "offline", "The upload could not reach the server."));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

/** The path of a URL the API gave (download_url is absolute); same origin, so the header goes along. */
export function pathOf(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

/**
 * Starts a download of an API download route: asked with `redirect=false`, it answers the
 * short-lived link as JSON instead of a 302 (the link may be a bucket's, on another origin, which
 * this page's API key must never reach), and the link, which carries no token, is clicked.
 */
export async function download(url, filename) {
  const path = pathOf(url);
  const link = await api("GET", path + (path.includes("?") ? "&" : "?") + "redirect=false");
  saveLink(link.url, filename);
  return link.url;
}

/** Clicks a temporary <a download> to a link that needs no credentials. */
export function saveLink(href, filename) {
  const a = document.createElement("a");
  a.href = href;
  a.download = filename || "";
  a.rel = "noopener";
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
}
