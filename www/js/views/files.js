// #/files: upload (drag-and-drop or the file input) with a real progress bar, a paged list,
// details from the probe, download through the signed link, delete after a confirmation.

import { api, download, upload } from "../api.js";
import { describe, explain } from "../errors.js";
import { getOrSay } from "../lists.js";
import {
  badge, bytes, confirmDialog, h, messageBox, pagerControls, poller, section, seconds, showMessage, table, timeEl, viewHead,
} from "../dom.js";
import { probeDetails, resolution } from "../media.js";

const PER_PAGE = 20;
const BUSY = new Set(["pending", "processing"]);

export function render(main) {
  let page = 1;
  let selected = null;
  const input = h("input#file-input", { type: "file", multiple: true });
  const zone = h("div.dropzone#dropzone", {},
    h("p", {}, "Drag media files here and drop them, or choose them from your device."),
    h("label", { for: "file-input" }, "Files to upload"),
    h("div", {}, input));
  const progress = h("progress#upload-progress", { max: 100, value: 0, "aria-label": "Upload progress" });
  const progressText = h("span#upload-progress-text.small.muted", {}, "");
  const status = h("div.upload-status#upload-status", { hidden: true }, progressText, progress);
  const uploadMessage = messageBox("upload-message");
  const list = h("div#files-list", {});
  const pager = h("div.pager#files-pager", {});
  const listMessage = messageBox("files-message");
  const details = h("section.card#file-details", { "aria-labelledby": "file-details-title", hidden: true });

  main.append(
    viewHead("Files", h("p.muted", {}, "Media you upload is probed for its duration, resolution and codecs.")),
    section("Upload", zone, status, uploadMessage),
    details,
    section("Your files", listMessage, list, pager));

  const poll = poller(async () => {
    const busy = await load();
    if (selected && BUSY.has(selected.status)) await showDetails(selected.id, false);
    return busy;
  });

  async function load() {
    const body = await getOrSay(`/files?page=${page}&per_page=${PER_PAGE}`, listMessage);
    if (!body) return false;
    drawList(body);
    return body.files.some((f) => BUSY.has(f.status));
  }

  function drawList(body) {
    if (body.files.length === 0) {
      list.replaceChildren(h("p.empty", {}, page === 1 ? "No files yet. Upload one above." : "Nothing on this page."));
    } else {
      list.replaceChildren(table(null, [
        { label: "Name" }, { label: "Status" }, { label: "Size", num: true }, { label: "Duration", num: true },
        { label: "Resolution" }, { label: "Added" }, { label: "Actions" },
      ], body.files.map((f) => [
        h("span.linkish", {}, f.name),
        [badge(f.status), f.error_code ? h("div.small.muted", {}, describe(f.error_code) || f.error) : null],
        bytes(f.size_bytes),
        seconds(f.ffprobe?.duration),
        resolution(f.ffprobe) || "—",
        timeEl(f.created_at),
        actions(f),
      ]), { id: "files-table" }));
    }
    pagerControls(pager, body, (n) => { page = n; load(); }, "files", "file");
  }

  function actions(f) {
    return h("div.actions", {},
      h("button.button.button-quiet.button-small", {
        type: "button", "aria-label": `Details of ${f.name}`, dataset: { action: "details", id: f.id },
        onclick: () => showDetails(f.id, true),
      }, "Details"),
      f.download_url ? h("button.button.button-quiet.button-small", {
        type: "button", "aria-label": `Download ${f.name}`, dataset: { action: "download", id: f.id },
        onclick: () => download(f.download_url, f.name).catch((e) => showMessage(listMessage, explain(e), "error")),
      }, "Download") : null,
      h("button.button.button-danger.button-small", {
        type: "button", "aria-label": `Delete ${f.name}`, dataset: { action: "delete", id: f.id },
        onclick: () => remove(f),
      }, "Delete"));
  }

  async function showDetails(id, focus) {
    let f;
    try {
      f = await api("GET", `/files/${encodeURIComponent(id)}`);
    } catch (error) {
      showMessage(listMessage, explain(error), "error");
      return;
    }
    selected = f;
    const close = h("button.button.button-quiet.button-small#file-details-close", {
      type: "button", onclick: () => { details.hidden = true; selected = null; },
    }, "Close details");
    details.replaceChildren(
      h("div.view-head", {}, h("h2#file-details-title", {}, f.name), close),
      h("dl.details", {},
        h("dt", {}, "Status"), h("dd#file-details-status", {}, badge(f.status)),
        h("dt", {}, "Size"), h("dd", {}, bytes(f.size_bytes)),
        h("dt", {}, "Type"), h("dd", {}, f.content_type || "—"),
        h("dt", {}, "Source"), h("dd", {}, f.source === "url" ? f.source_url : "Upload"),
        f.error ? [h("dt", {}, "Error"), h("dd", {}, describe(f.error_code) || f.error)] : null,
        f.ffprobe_error ? [h("dt", {}, "Probe"), h("dd", {}, describe(f.ffprobe_error_code) || f.ffprobe_error)] : null),
      h("h3", {}, "Media"),
      probeDetails(f.ffprobe, "file-details"));
    details.hidden = false;
    if (focus) close.focus();
    if (BUSY.has(f.status)) poll.later();
  }

  async function remove(f) {
    if (!(await confirmDialog(`Delete ${f.name}? This cannot be undone.`))) return;
    try {
      await api("DELETE", `/files/${encodeURIComponent(f.id)}`);
      showMessage(listMessage, `Deleted ${f.name}.`, "ok");
      if (selected?.id === f.id) { details.hidden = true; selected = null; }
      await load();
    } catch (error) {
      showMessage(listMessage, explain(error), "error");
    }
  }

  async function send(fileList) {
    const chosen = [...fileList];
    if (chosen.length === 0) return;
    status.hidden = false;
    showMessage(uploadMessage, "");
    for (const [index, file] of chosen.entries()) {
      const label = chosen.length > 1 ? `${file.name} (${index + 1} of ${chosen.length})` : file.name;
      progress.value = 0;
      progressText.textContent = `Uploading ${label}…`;
      try {
        const made = await upload(file, (loaded, total) => {
          progress.value = Math.round((loaded / total) * 100);
          progressText.textContent = `Uploading ${label}: ${bytes(loaded)} of ${bytes(total)}`;
        });
        progress.value = 100;
        showMessage(uploadMessage, `Uploaded ${made.name}. It is being probed.`, "ok");
      } catch (error) {
        showMessage(uploadMessage, `${file.name}: ${explain(error)}`, "error");
      }
    }
    progressText.textContent = "Upload finished.";
    input.value = "";
    page = 1;
    poll.kick();
  }

  input.addEventListener("change", () => send(input.files));
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    if (event.dataTransfer?.files) send(event.dataTransfer.files);
  });

  poll.kick();
  return () => poll.stop();
}
