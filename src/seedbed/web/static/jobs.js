// The job page: live progress from the jobs API's server-sent events, and select /
// deselect all samples of the review. The page works without it (it reloads instead).
"use strict";

function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "estimating…";
  if (seconds < 60) return `${Math.max(1, Math.ceil(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function showProgress(panel, job) {
  const set = (name, text) => {
    const element = panel.querySelector(`[data-job="${name}"]`);
    if (element) element.textContent = text;
  };
  set("status", job.status);
  set("accepted", String(job.accepted));
  set("cost", `$${job.cost.toFixed(4)}`);
  set("calls", String(job.calls));
  set("eta", formatSeconds(job.eta_seconds));
  const reasons = Object.entries(job.rejected).filter(([, count]) => count > 0);
  set("rejected", reasons.length
    ? reasons.map(([reason, count]) => `${reason.replaceAll("_", " ")}: ${count}`).join(", ")
    : "none");
  const bar = panel.querySelector('[data-job="bar"]');
  if (bar) bar.value = job.accepted;
}

function followJob(panel) {
  const events = new EventSource(panel.dataset.jobEvents);
  events.addEventListener("progress", (event) => showProgress(panel, JSON.parse(event.data)));
  events.addEventListener("finished", (event) => {
    events.close();
    showProgress(panel, JSON.parse(event.data));
    window.location.reload();  // the review of the samples replaces the progress
  });
  events.onerror = () => {
    // The stream ended or the server went away: the page itself shows the latest state.
    events.close();
    window.setTimeout(() => window.location.reload(), 2000);
  };
}

function markRow(box) {
  const row = box.closest("tr");
  if (row) row.classList.toggle("rejected", !box.checked);
}

document.addEventListener("change", (event) => {
  if (event.target.matches('input[type="checkbox"][name="keep"]')) markRow(event.target);
});

document.addEventListener("DOMContentLoaded", () => {
  const panel = document.querySelector("[data-job-events]");
  if (panel) followJob(panel);
  for (const button of document.querySelectorAll("[data-check-all]")) {
    button.addEventListener("click", () => {
      const checked = button.dataset.checkAll === "true";
      for (const box of button.form.querySelectorAll('input[type="checkbox"][name="keep"]')) {
        box.checked = checked;
        markRow(box);
      }
    });
  }
});
