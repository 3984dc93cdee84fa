// #/usage: GET /usage (jobs by status, active jobs against the cap, bytes stored) and the
// account's webhook delivery log (GET /fetch/deliveries, newest first, paged).

import { getOrSay } from "../lists.js";
import { badge, bytes, h, messageBox, pagerControls, section, showMessage, table, timeEl, viewHead } from "../dom.js";

const PER_PAGE = 25;

export function render(main) {
  let page = 1;
  const usageMessage = messageBox("usage-message");
  const usageBody = h("div#usage-summary", {});
  const logMessage = messageBox("deliveries-message");
  const log = h("div#deliveries-log", {});
  const pager = h("div.pager#deliveries-pager", {});
  const refresh = h("button.button.button-quiet#usage-refresh", { type: "button" }, "Refresh");

  main.append(
    viewHead("Usage", refresh),
    section("Usage and limits", usageMessage, usageBody),
    section("Webhook deliveries", h("p.muted", {}, "Every attempt to call a fetch's or job's webhook, newest first."),
      logMessage, log, pager));

  async function loadUsage() {
    const u = await getOrSay("/usage", usageMessage);
    if (!u) return;
    const stat = (term, value, id) => h("div.stat", {}, h("dt", {}, term), h("dd", { id }, value));
    usageBody.replaceChildren(
      h("dl.stats", {},
        stat("Active jobs", `${u.active_jobs} of ${u.limits.active_jobs}`, "usage-active"),
        stat("Stored here", bytes(u.bytes_stored.local), "usage-local"),
        stat("In your bucket", bytes(u.bytes_stored.bucket), "usage-bucket"),
        stat("Jobs in all", String(u.jobs.total), "usage-total")),
      h("div.field", {},
        h("label", { for: "usage-cap" }, "Active jobs against the cap"),
        h("progress#usage-cap", { max: u.limits.active_jobs || 1, value: u.active_jobs })),
      table("Jobs by status", [{ label: "Status" }, { label: "Jobs", num: true }],
        Object.entries(u.jobs).filter(([k]) => k !== "total").map(([k, n]) => [badge(k), String(n)]), { id: "usage-jobs" }),
      h("p.small.muted", {}, `A batch takes at most ${u.limits.bulk_urls} URLs.`));
  }

  async function loadLog() {
    const body = await getOrSay(`/fetch/deliveries?page=${page}&per_page=${PER_PAGE}`, logMessage);
    if (!body) return;
    if (body.deliveries.length === 0) {
      log.replaceChildren(h("p.empty", {}, "No webhook has been called yet."));
    } else {
      log.replaceChildren(table(null, [
        { label: "When" }, { label: "Fetch" }, { label: "URL" }, { label: "Attempt", num: true },
        { label: "Answer" }, { label: "Time", num: true },
      ], body.deliveries.map((d) => [
        timeEl(d.attempted_at),
        h("span.mono", { title: d.fetch_id }, d.fetch_id.slice(0, 8)),
        h("span.linkish", {}, d.url),
        String(d.attempt),
        d.status !== null && d.status >= 200 && d.status < 300 ? h("span.badge.badge-ok", {}, String(d.status))
          : h("span", {}, d.status !== null ? `${d.status} ` : "", d.error ? h("span.small.muted", {}, d.error) : null),
        d.duration_ms !== null ? `${d.duration_ms} ms` : "—",
      ]), { id: "deliveries-table" }));
    }
    pagerControls(pager, body, (n) => { page = n; loadLog(); }, "deliveries", "attempt");
  }

  refresh.addEventListener("click", () => { loadUsage(); loadLog(); });
  loadUsage();
  loadLog();
}
