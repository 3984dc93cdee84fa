// #/fetches: the Fetch API (seed 000). A URL and a quality, a metadata preview before starting,
// the list with live progress (polled every 2 s while something is pending or running), cancel,
// retry, download, delete, errors in words.

import { api, download } from "../api.js";
import { describe, explain } from "../errors.js";
import { getOrSay } from "../lists.js";
import {
  badge, bytes, confirmDialog, field, h, messageBox, pagerControls, poller, section, seconds, showMessage, timeEl, viewHead,
} from "../dom.js";
import { probeDetails } from "../media.js";

const QUALITIES = ["best", "1080p", "720p", "480p", "360p", "audio", "mp4"];
const ACTIVE = new Set(["pending", "running"]);
const PER_PAGE = 20;

export function render(main) {
  let page = 1;
  const url = h("input#fetch-url", { type: "url", name: "url", required: true, placeholder: "https://…", autocomplete: "url" });
  const quality = h("select#fetch-quality", { name: "quality" }, QUALITIES.map((q) => h("option", { value: q }, q)));
  const previewButton = h("button.button.button-quiet#fetch-preview", { type: "button" }, "Preview");
  const startButton = h("button.button#fetch-start", { type: "submit" }, "Start fetch");
  const formMessage = messageBox("fetch-message");
  const preview = h("div#fetch-preview-result", { "aria-live": "polite" });
  const form = h("form#fetch-form", { novalidate: true },
    h("div.row", {}, field("Page or media URL", url), h("div.field.narrow", {}, h("label", { for: "fetch-quality" }, "Quality"), quality)),
    h("div.row", {}, h("div.actions", {}, startButton, previewButton)),
    formMessage, preview);
  const list = h("ul.entries#fetches-list", {});
  const listMessage = messageBox("fetches-message");
  const pager = h("div.pager#fetches-pager", {});

  main.append(
    viewHead("Fetches", h("p.muted", {}, "Media acquired from a page URL by yt-dlp, kept apart from your files.")),
    section("New fetch", form),
    section("Your fetches", listMessage, list, pager));

  const poll = poller(load);

  async function load() {
    const body = await getOrSay(`/fetch?page=${page}&per_page=${PER_PAGE}`, listMessage);
    if (!body) return false;
    if (body.fetches.length === 0) {
      list.replaceChildren(h("li.empty", {}, "No fetches yet. Paste a URL above."));
    } else {
      list.replaceChildren(...body.fetches.map(entry));
    }
    pagerControls(pager, body, (n) => { page = n; load(); }, "fetches", "fetch");
    return body.fetches.some((f) => ACTIVE.has(f.status));
  }

  function entry(f) {
    const name = f.title || f.url;
    const percent = f.progress?.percent;
    const running = ACTIVE.has(f.status);
    const meta = [f.quality, f.step, f.size_bytes ? bytes(f.size_bytes) : null, f.duration ? seconds(f.duration) : null]
      .filter(Boolean).join(" · ");
    return h("li.entry", { dataset: { id: f.id, status: f.status } },
      h("div", {},
        h("p.entry-title", {}, name, " ", badge(f.status)),
        h("p.entry-meta", {}, f.title ? h("span.linkish", {}, f.url) : null),
        h("p.entry-meta", {}, meta, " · ", timeEl(f.created_at))),
      h("div.actions", {},
        running ? h("button.button.button-danger.button-small", {
          type: "button", "aria-label": `Cancel ${name}`, dataset: { action: "cancel" }, onclick: () => cancel(f),
        }, "Cancel") : null,
        f.status === "success" ? h("button.button.button-small", {
          type: "button", "aria-label": `Download ${name}`, dataset: { action: "download" },
          onclick: () => download(f.download_url, f.filename).catch((e) => showMessage(listMessage, explain(e), "error")),
        }, "Download") : null,
        f.status === "failed" ? h("button.button.button-quiet.button-small", {
          type: "button", "aria-label": `Retry ${name}`, dataset: { action: "retry" }, onclick: () => retry(f),
        }, "Retry") : null,
        !running ? h("button.button.button-quiet.button-small", {
          type: "button", "aria-label": `Delete ${name}`, dataset: { action: "delete" }, onclick: () => remove(f, name),
        }, "Delete") : null),
      running ? h("div.entry-progress", {},
        h("progress", { max: 100, value: percent ?? 0, "aria-label": `Progress of ${name}` }),
        h("span", {}, progressText(f))) : null,
      f.error ? h("p.error-text", {}, describe(f.error.code) || f.error.message,
        f.error.code !== "cancelled" && f.error.message ? h("span.muted", {}, ` (${f.error.message})`) : null) : null,
      f.status === "success" && f.ffprobe ? h("details", {}, h("summary", {}, "Media details"), probeDetails(f.ffprobe)) : null);
  }

  function progressText(f) {
    const p = f.progress || {};
    if (f.step === "paused") return "Paused: its batch has not started";
    if (f.status === "pending") return "Queued";
    const parts = [p.percent != null ? `${Math.round(p.percent)} %` : f.step];
    if (p.total_bytes) parts.push(`${bytes(p.bytes)} of ${bytes(p.total_bytes)}`);
    if (p.speed) parts.push(`${bytes(p.speed)}/s`);
    return parts.filter(Boolean).join(" · ");
  }

  // Runs one change, says how it went, and refreshes the list.
  async function act(change, done) {
    try {
      await change();
      showMessage(listMessage, done, "ok");
    } catch (error) {
      showMessage(listMessage, explain(error), "error");
    }
    poll.kick();
  }

  function cancel(f) {
    return act(() => api("DELETE", `/fetch/${f.id}`), "Cancelled.");
  }

  function retry(f) {
    page = 1;
    return act(() => api("POST", "/fetch", { url: f.url, quality: f.quality }), "Started again.");
  }

  async function remove(f, name) {
    if (await confirmDialog(`Delete ${name} and its file?`)) await act(() => api("DELETE", `/fetch/${f.id}`), "Deleted.");
  }

  previewButton.addEventListener("click", async () => {
    if (!url.value.trim()) {
      showMessage(formMessage, "Enter a URL first.", "error");
      url.focus();
      return;
    }
    previewButton.disabled = true;
    showMessage(formMessage, "Reading the page…", "info");
    preview.replaceChildren();
    try {
      const m = await api("GET", `/fetch/metadata?url=${encodeURIComponent(url.value.trim())}`);
      showMessage(formMessage, "");
      preview.replaceChildren(h("div.preview#fetch-metadata", {},
        m.thumbnail ? h("img", { src: m.thumbnail, alt: `Thumbnail of ${m.title || "the media"}` }) : null,
        h("div.preview-body", {},
          h("h3#fetch-metadata-title", {}, m.title || "Untitled"),
          h("dl.details", {},
            h("dt", {}, "Duration"), h("dd#fetch-metadata-duration", {}, seconds(m.duration)),
            h("dt", {}, "Uploader"), h("dd", {}, m.uploader || "—"),
            h("dt", {}, "Source"), h("dd", {}, m.extractor || "—"),
            h("dt", {}, "Formats"), h("dd#fetch-metadata-formats", {}, String(m.formats?.length ?? 0))))));
    } catch (error) {
      showMessage(formMessage, explain(error), "error");
    } finally {
      previewButton.disabled = false;
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!url.value.trim()) {
      showMessage(formMessage, "Enter a URL first.", "error");
      url.focus();
      return;
    }
    startButton.disabled = true;
    try {
      await api("POST", "/fetch", { url: url.value.trim(), quality: quality.value });
      showMessage(formMessage, "Fetch started.", "ok");
      url.value = "";
      preview.replaceChildren();
      page = 1;
    } catch (error) {
      showMessage(formMessage, explain(error), "error");
    } finally {
      startButton.disabled = false;
    }
    poll.kick();
  });

  poll.kick();
  return () => poll.stop();
}
