// Bulk actions on the desk (tick rows, pick an action, show only its fields) and a bulk job's
// live progress (polls GET /api/v1/jobs/{id} until the job finishes, then shows the result).
// No inline scripts: the Content-Security-Policy forbids them. Texts come from data attributes.
(function () {
  "use strict";

  const POLL_MS = 1000;

  function fill(template, n) {
    return (template || "").split("__N__").join(String(n));
  }

  // --- the desk's bulk bar --------------------------------------------------------------------

  function bar(form) {
    const action = form.querySelector("#bulk-action");
    const status = form.querySelector("#bulk-status");
    const selected = form.querySelector("#bulk-selected");
    const allLabel = form.querySelector("#bulk-all-label");
    const scopeIds = form.querySelector("#bulk-scope-ids");
    const scopeFilter = form.querySelector("#bulk-scope-filter");
    const picks = () => Array.from(document.querySelectorAll("input.bulk-pick"));
    const ticked = () => picks().filter((box) => box.checked);

    function showFields() {
      form.querySelectorAll("[data-bulk-for]").forEach((part) => {
        const wanted = part.dataset.bulkFor.split(" ").includes(action.value);
        part.classList.toggle("d-none", !wanted);
        part.querySelectorAll("input, select, textarea").forEach((field) => {
          field.disabled = !wanted;
        });
      });
      const mode = (form.querySelector('input[name="mode"]:checked') || {}).value;
      form.querySelectorAll("[data-bulk-when-mode]").forEach((part) => {
        part.classList.toggle("d-none", part.dataset.bulkWhenMode !== mode);
      });
      form.querySelectorAll("[data-bulk-when-status]").forEach((part) => {
        const shown = action.value === "status" && status && part.dataset.bulkWhenStatus === status.value;
        part.classList.toggle("d-none", !shown);
        part.querySelectorAll("select").forEach((field) => {
          field.disabled = !shown;
          field.required = shown;
        });
      });
    }

    function showCount() {
      const n = ticked().length;
      selected.textContent = n === 1 ? form.dataset.selectedOne : fill(form.dataset.selectedMany, n);
      const all = document.getElementById("bulk-all");
      if (all) {
        all.checked = n > 0 && n === picks().length;
        all.indeterminate = n > 0 && n < picks().length;
      }
    }

    // Counted on demand only (a filter may match a million leads): when the page is ticked whole
    // or "all leads matching this filter" is chosen.
    async function countMatching() {
      const url = new URL(form.dataset.countUrl, window.location.href);
      form.querySelectorAll('input[name^="filter."]').forEach((field) => {
        url.searchParams.append(field.name.slice("filter.".length), field.value);
      });
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok) return;
        const body = await response.json();
        allLabel.textContent = fill(form.dataset.allLabel, body.count);
        allLabel.dataset.count = body.count;
      } catch (error) {
        // The plain label stays; the count is a help, not a need.
      }
    }

    document.addEventListener("change", (event) => {
      const target = event.target;
      if (target.id === "bulk-all") {
        picks().forEach((box) => {
          box.checked = target.checked;
        });
        if (target.checked && !allLabel.dataset.count) countMatching(); // offer "all N leads"
      }
      if (target.id === "bulk-all" || target.classList.contains("bulk-pick")) {
        scopeIds.checked = true;
        showCount();
      }
    });
    // The realtime script swaps the table's rows in from the server: ticks start again.
    document.addEventListener("leadhub:rows-swapped", showCount);
    action.addEventListener("change", showFields);
    if (status) status.addEventListener("change", showFields);
    form.querySelectorAll('input[name="mode"]').forEach((radio) => radio.addEventListener("change", showFields));
    scopeFilter.addEventListener("change", countMatching);
    form.addEventListener("submit", (event) => {
      if (scopeIds.checked && ticked().length === 0) {
        event.preventDefault();
        window.alert(form.dataset.noneTicked);
        return;
      }
      if (action.value === "delete" && !window.confirm(form.dataset.confirmDelete)) {
        event.preventDefault();
      }
    });
    showFields();
    showCount();
  }

  // --- a job's page -----------------------------------------------------------------------------

  function job(root) {
    const words = JSON.parse(document.getElementById("bulk-status").dataset.words || "{}");

    async function poll() {
      let report;
      try {
        const response = await fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error("poll failed: " + response.status);
        report = await response.json();
      } catch (error) {
        window.setTimeout(poll, POLL_MS * 3);
        return;
      }
      document.getElementById("bulk-progress").value = report.progress;
      document.getElementById("bulk-status").textContent = words[report.status] || report.status;
      ["total", "done", "skipped", "failed"].forEach((name) => {
        const cell = root.querySelector('[data-count="' + name + '"]');
        if (cell) cell.textContent = report[name];
      });
      if (report.status === "done" || report.status === "failed") {
        window.location.reload(); // the server draws the result: skipped leads, undo
      } else {
        window.setTimeout(poll, POLL_MS);
      }
    }

    if (root.dataset.finished !== "true") window.setTimeout(poll, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("bulk-form");
    if (form) bar(form);
    const root = document.getElementById("bulk-job");
    if (root) job(root);
  });
})();
