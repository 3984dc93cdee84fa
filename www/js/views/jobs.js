// #/jobs: download jobs (seed 002): one job or a bulk batch (optionally paused), the jobs list
// (keyset pages), live progress, cancel, retry, download, and the batch view: rename the jobs of a
// paused batch, start it, watch its counts.

import { api, download, saveLink } from "../api.js";
import { describe, explain } from "../errors.js";
import { getOrSay } from "../lists.js";
import { badge, bytes, field, h, messageBox, poller, section, showMessage, table, timeEl, viewHead } from "../dom.js";

const QUALITIES = ["best", "1080p", "720p", "480p", "360p", "audio", "mp4"];
const FORMATS = ["", "mp4", "webm", "mkv", "mp3", "m4a", "opus", "wav"];
const ACTIVE = new Set(["Pending", "Processing"]);
const PER_PAGE = 20;

function qualitySelect(id) {
  return h(`select#${id}`, {}, QUALITIES.map((q) => h("option", { value: q }, q)));
}

function formatSelect(id) {
  return h(`select#${id}`, {}, FORMATS.map((f) => h("option", { value: f }, f || "any")));
}

export function render(main) {
  // Keyset pages: cursors[i] is the `after` of page i (null for the first).
  let cursors = [null];
  let pageIndex = 0;
  let batch = null;

  const url = h("input#job-url", { type: "url", required: true, placeholder: "https://…", autocomplete: "url" });
  const quality = qualitySelect("job-quality");
  const format = formatSelect("job-format");
  const paused = h("input#job-paused", { type: "checkbox" });
  const createMessage = messageBox("job-message");
  const createForm = h("form#job-form", { novalidate: true },
    h("div.row", {}, field("Media URL", url),
      h("div.field.narrow", {}, h("label", { for: "job-quality" }, "Quality"), quality),
      h("div.field.narrow", {}, h("label", { for: "job-format" }, "Format"), format)),
    h("div.row", {}, h("label.check", {}, paused, "Create paused (start it from the batch view)")),
    h("div.row", {}, h("button.button#job-create", { type: "submit" }, "Create job")),
    createMessage);

  const urls = h("textarea#bulk-urls", { rows: 4, placeholder: "One URL per line (up to 100)" });
  const bulkQuality = qualitySelect("bulk-quality");
  const bulkPaused = h("input#bulk-paused", { type: "checkbox", checked: true });
  const bulkMessage = messageBox("bulk-message");
  const bulkForm = h("form#bulk-form", { novalidate: true },
    field("URLs", urls),
    h("div.row", {}, h("div.field.narrow", {}, h("label", { for: "bulk-quality" }, "Quality"), bulkQuality),
      h("label.check", {}, bulkPaused, "Create paused")),
    h("div.row", {}, h("button.button#bulk-create", { type: "submit" }, "Create batch")),
    bulkMessage);

  const batchId = h("input#batch-id", { type: "text", spellcheck: "false", placeholder: "Batch id" });
  const batchMessage = messageBox("batch-message");
  const batchBody = h("div#batch-view", {});
  const batchForm = h("form#batch-open-form", { novalidate: true },
    h("div.row", {}, field("Batch id", batchId), h("button.button.button-quiet#batch-open", { type: "submit" }, "Open batch")),
    batchMessage, batchBody);

  const list = h("ul.entries#jobs-list", {});
  const listMessage = messageBox("jobs-message");
  const pager = h("div.pager#jobs-pager", {});

  main.append(
    viewHead("Jobs", h("p.muted", {}, "Download jobs: options, batches of URLs, paused batches you rename and start.")),
    section("New job", createForm),
    section("New batch", bulkForm),
    section("Batch", batchForm),
    section("Your jobs", listMessage, list, pager));

  const poll = poller(async () => {
    const busy = await load();
    const batchBusy = batch ? await loadBatch(batch.id) : false;
    return busy || batchBusy;
  });

  async function load() {
    const after = cursors[pageIndex];
    const body = await getOrSay(`/jobs?per_page=${PER_PAGE}${after ? `&after=${encodeURIComponent(after)}` : ""}`, listMessage);
    if (!body) return false;
    list.replaceChildren(...(body.jobs.length ? body.jobs.map(entry) : [h("li.empty", {}, "No jobs yet.")]));
    cursors = cursors.slice(0, pageIndex + 1);
    if (body.has_more) cursors.push(body.next_cursor);
    pager.replaceChildren(
      h("button.button.button-quiet.button-small#jobs-prev", {
        type: "button", disabled: pageIndex === 0, onclick: () => { pageIndex -= 1; load(); },
      }, "Newer"),
      h("span.muted", {}, `Page ${pageIndex + 1}`),
      h("button.button.button-quiet.button-small#jobs-next", {
        type: "button", disabled: !body.has_more, onclick: () => { pageIndex += 1; load(); },
      }, "Older"));
    return body.jobs.some((j) => ACTIVE.has(j.status));
  }

  function jobName(j) {
    return j.file?.name || j.url;
  }

  function entry(j) {
    const name = jobName(j);
    const active = ACTIVE.has(j.status);
    return h("li.entry", { dataset: { id: j.id, status: j.status } },
      h("div", {},
        h("p.entry-title", {}, h("span.linkish", {}, name), " ", badge(j.status)),
        h("p.entry-meta", {}, [j.step, j.file ? bytes(j.file.size) : null].filter(Boolean).join(" · "),
          j.step || j.file ? " · " : "", timeEl(j.created_at)),
        j.batch_id ? h("p.entry-meta", {}, "Batch ", h("button.button.button-quiet.button-small", {
          type: "button", "aria-label": `Open batch ${j.batch_id}`, onclick: () => openBatch(j.batch_id),
        }, j.batch_id.slice(0, 8))) : null),
      h("div.actions", {},
        active ? h("button.button.button-danger.button-small", {
          type: "button", "aria-label": `Cancel ${name}`, dataset: { action: "cancel" }, onclick: () => act("DELETE", `/jobs/${j.id}`, "Cancelled."),
        }, "Cancel") : null,
        j.status === "Failed" || j.status === "Cancelled" ? h("button.button.button-quiet.button-small", {
          type: "button", "aria-label": `Retry ${name}`, dataset: { action: "retry" }, onclick: () => act("POST", `/jobs/${j.id}/retry`, "Started again."),
        }, "Retry") : null,
        j.download_url || j.s3_url ? h("button.button.button-small", {
          type: "button", "aria-label": `Download ${name}`, dataset: { action: "download" },
          onclick: () => (j.s3_url ? Promise.resolve(saveLink(j.s3_url, j.file?.name)) : download(j.download_url, j.file?.name))
            .catch((e) => showMessage(listMessage, explain(e), "error")),
        }, "Download") : null),
      active ? h("div.entry-progress", {},
        h("progress", { max: 100, value: j.progress ?? 0, "aria-label": `Progress of ${name}` }),
        h("span", {}, `${Math.round(j.progress ?? 0)} %`)) : null,
      j.error_type && j.error_type !== "cancelled" ? h("p.error-text", {}, describe(j.error_type) || j.error) : null);
  }

  async function act(method, path, done) {
    try {
      await api(method, path);
      showMessage(listMessage, done, "ok");
    } catch (error) {
      showMessage(listMessage, explain(error), "error");
    }
    poll.kick();
  }

  async function loadBatch(id) {
    let b;
    try {
      b = await api("GET", `/batch/${encodeURIComponent(id)}`);
    } catch (error) {
      showMessage(batchMessage, explain(error), "error");
      batch = null;
      batchBody.replaceChildren();
      return false;
    }
    // A paused batch that has not changed is left alone, so names being typed are not wiped.
    const unchanged = batch && batch.id === b.id && b.status === "paused" && batch.status === "paused"
      && JSON.stringify(batch.counts) === JSON.stringify(b.counts) && batchBody.childElementCount > 0;
    batch = b;
    if (!unchanged) drawBatch(b);
    return b.status === "started";
  }

  function drawBatch(b) {
    const editable = b.status === "paused";
    const names = new Map();
    const rows = b.jobs.map((j) => {
      let nameCell = jobName(j);
      if (editable) {
        const input = h("input", { type: "text", value: j.file?.name || "", placeholder: "Keep the title", "aria-label": `File name for ${j.url}` });
        names.set(j.id, input);
        nameCell = input;
      }
      return [h("span.linkish", {}, j.url), nameCell, badge(j.status), `${Math.round(j.progress ?? 0)} %`];
    });
    const counts = Object.entries(b.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(", ") || "no jobs";
    const rename = h("button.button.button-quiet#batch-rename", { type: "button", disabled: !editable }, "Save names");
    const start = h("button.button#batch-start", { type: "button", disabled: !editable }, "Start batch");
    rename.addEventListener("click", async () => {
      const jobs = [...names].map(([id, input]) => ({ id, filename: input.value.trim() })).filter((j) => j.filename);
      if (jobs.length === 0) { showMessage(batchMessage, "Type a file name first.", "error"); return; }
      try {
        await api("PATCH", `/batch/${b.id}/jobs`, { jobs });
        showMessage(batchMessage, "Names saved.", "ok");
      } catch (error) {
        showMessage(batchMessage, explain(error), "error");
      }
    });
    start.addEventListener("click", async () => {
      try {
        await api("POST", `/batch/${b.id}/start`);
        showMessage(batchMessage, "Batch started.", "ok");
      } catch (error) {
        showMessage(batchMessage, explain(error), "error");
      }
      await loadBatch(b.id);
      poll.kick();
    });
    batchBody.replaceChildren(
      h("dl.details", {},
        h("dt", {}, "Batch"), h("dd.mono", {}, b.id),
        h("dt", {}, "Status"), h("dd#batch-status", {}, badge(b.status)),
        h("dt", {}, "Jobs"), h("dd", {}, `${b.total}: ${counts}`),
        h("dt", {}, "Created"), h("dd", {}, timeEl(b.created_at))),
      h("div.entry-progress", {}, h("progress#batch-progress", { max: 100, value: b.progress ?? 0, "aria-label": "Batch progress" }),
        h("span", {}, `${Math.round(b.progress ?? 0)} %`)),
      table(null, [{ label: "URL" }, { label: "File name" }, { label: "Status" }, { label: "Progress", num: true }], rows, { id: "batch-jobs" }),
      h("div.actions", {}, rename, start));
  }

  async function openBatch(id) {
    batchId.value = id;
    showMessage(batchMessage, "");
    await loadBatch(id);
    batchId.scrollIntoView({ block: "nearest" });
    poll.kick();
  }

  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!url.value.trim()) { showMessage(createMessage, "Enter a URL first.", "error"); url.focus(); return; }
    const body = { url: url.value.trim(), quality: quality.value };
    if (format.value) body.format = format.value;
    if (paused.checked) body.paused = true;
    try {
      const job = await api("POST", "/jobs", body);
      showMessage(createMessage, paused.checked ? "Job created in a paused batch." : "Job created.", "ok");
      url.value = "";
      if (job.batch_id && paused.checked) await openBatch(job.batch_id);
    } catch (error) {
      showMessage(createMessage, explain(error), "error");
    }
    pageIndex = 0;
    cursors = [null];
    poll.kick();
  });

  bulkForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const list = urls.value.split(/\s+/).map((u) => u.trim()).filter(Boolean);
    if (list.length === 0) { showMessage(bulkMessage, "Enter at least one URL.", "error"); urls.focus(); return; }
    try {
      const made = await api("POST", "/jobs/bulk", { urls: list, quality: bulkQuality.value, paused: bulkPaused.checked });
      showMessage(bulkMessage, `Batch of ${made.job_ids.length} job${made.job_ids.length === 1 ? "" : "s"} created (${made.status}).`, "ok");
      urls.value = "";
      await openBatch(made.batch_id);
    } catch (error) {
      showMessage(bulkMessage, explain(error), "error");
    }
  });

  batchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (batchId.value.trim()) openBatch(batchId.value.trim());
  });

  poll.kick();
  return () => poll.stop();
}
