// Live updates over Socket.IO (namespace /facebook-leads): the desk's new leads, counts and
// changed rows; the lead page's changes by others, who else is viewing, and a warning before a
// save that would conflict. Texts come from data attributes the templates translate.
// No inline scripts: the Content-Security-Policy forbids them.
(function () {
  "use strict";

  const NAMESPACE = "/facebook-leads";
  const HIGHLIGHT = "table-info";

  function fill(template, values) {
    return Object.keys(values).reduce(
      (text, key) => text.split("__" + key + "__").join(String(values[key])),
      template || "",
    );
  }

  async function fetchPage(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) throw new Error("refetch failed: " + response.status);
    return new DOMParser().parseFromString(await response.text(), "text/html");
  }

  // --- connection state -------------------------------------------------------------------------

  function connectionBanner(socket, onCatchUp) {
    const banner = document.getElementById("realtime-banner");
    let lost = false;
    const state = (name) => {
      document.documentElement.dataset.realtime = name; // for styles and tests
    };
    const show = () => {
      lost = true;
      state("lost");
      if (banner) banner.classList.remove("d-none");
    };
    socket.on("disconnect", show);
    socket.on("connect_error", show);
    socket.on("connect", () => {
      state("connected");
      if (banner) banner.classList.add("d-none");
      if (lost) {
        lost = false;
        onCatchUp();
      }
    });
  }

  // --- the desk (/leads) ------------------------------------------------------------------------

  function desk(socket, table) {
    const notice = document.getElementById("new-leads");
    const button = notice ? notice.querySelector("button") : null;
    const fresh = new Set(); // ids of leads that arrived since the rows were last shown
    let pending = new Set(); // ids of rows changed since the last refresh
    let timer = null;

    function showCounter() {
      if (!notice || !button) return;
      const n = fresh.size;
      button.textContent = n === 1 ? notice.dataset.one : fill(notice.dataset.many, { N: n });
      notice.classList.toggle("d-none", n === 0);
    }

    function setCounts(stats) {
      if (!stats) return;
      Object.entries(stats.counts).forEach(([status, n]) => {
        const badge = document.querySelector('.status-counts [data-count="' + status + '"]');
        if (badge) badge.textContent = n;
      });
      const total = document.querySelector('.status-counts [data-count="total"]');
      if (total) total.textContent = stats.total;
    }

    // Rows come from the server as the page renders them: one way to draw a row, and filters,
    // scope and sorting stay the server's.
    async function refresh(all) {
      const page = await fetchPage(window.location.href);
      const rows = page.querySelector("#lead-table tbody");
      if (!rows) return;
      if (all) {
        // Looked up each time: the body shown is the one the last refresh put in.
        table.querySelector("tbody").replaceWith(document.importNode(rows, true));
      } else {
        pending.forEach((id) => {
          const mine = table.querySelector('tbody tr[data-lead-id="' + id + '"]');
          const theirs = rows.querySelector('tr[data-lead-id="' + id + '"]');
          if (mine && theirs) {
            const row = document.importNode(theirs, true);
            row.classList.add(HIGHLIGHT);
            mine.replaceWith(row);
          } else if (mine) {
            mine.classList.add("opacity-50"); // no longer matches these filters
          }
        });
      }
      pending = new Set();
      // Rows came in from another page: scripts that dress rows (tag colours) do it again.
      document.dispatchEvent(new CustomEvent("leadhub:rows-swapped", { detail: { root: table } }));
      const counts = page.querySelector(".status-counts");
      const here = document.querySelector(".status-counts");
      if (counts && here) here.replaceWith(document.importNode(counts, true));
    }

    function highlightFresh() {
      fresh.forEach((id) => {
        const row = table.querySelector('tbody tr[data-lead-id="' + id + '"]');
        if (row) row.classList.add(HIGHLIGHT);
      });
    }

    if (button) {
      button.addEventListener("click", async () => {
        await refresh(true);
        highlightFresh();
        fresh.clear();
        showCounter();
      });
    }

    socket.on("ready", (hello) => setCounts(hello.stats));
    socket.on("stats_updated", setCounts);
    socket.on("lead_created", (row) => {
      fresh.add(row.id);
      showCounter();
    });
    // A bulk operation changed many leads at once: one summary, then the rows are fetched again.
    socket.on("leads_bulk_updated", () => refresh(true).catch(() => undefined));
    socket.on("lead_removed", (gone) => {
      // Given to someone else: no longer this user's to see or work.
      const row = table.querySelector('tbody tr[data-lead-id="' + gone.lead_id + '"]');
      if (row) row.remove();
      fresh.delete(gone.lead_id);
      pending.delete(gone.lead_id);
      showCounter();
    });
    socket.on("lead_updated", (change) => {
      if (!table.querySelector('tbody tr[data-lead-id="' + change.lead_id + '"]')) return;
      pending.add(change.lead_id);
      clearTimeout(timer);
      timer = setTimeout(() => refresh(false), 300);
    });
    return () => refresh(true).then(highlightFresh);
  }

  // --- one lead's page --------------------------------------------------------------------------

  function leadPage(socket, live) {
    const leadId = Number(live.dataset.leadId);
    let latest = Number(live.dataset.version);
    let me = null;
    const presence = document.getElementById("lead-presence");
    const changed = document.getElementById("lead-changed");
    const changedText = changed ? changed.querySelector("[data-text]") : null;

    function warn(template, actor) {
      if (!changed || !changedText) return;
      changedText.textContent = fill(template, { NAME: actor ? actor.name : "?" });
      changed.classList.remove("d-none");
    }

    socket.on("connect", () => socket.emit("join_lead", { lead_id: leadId }));
    socket.on("ready", (hello) => {
      me = hello.user_id;
    });
    socket.on("presence", (update) => {
      if (!presence || update.lead_id !== leadId) return;
      const others = update.viewers.filter((viewer) => viewer.id !== me).map((v) => v.name);
      presence.querySelector("[data-names]").textContent = others.join(", ");
      presence.classList.toggle("d-none", others.length === 0);
    });
    socket.on("lead_removed", (gone) => {
      if (gone.lead_id !== leadId) return;
      warn(live.dataset.removed, null);
      document.documentElement.dataset.leadRemoved = "true"; // for styles and tests
    });
    socket.on("lead_updated", (change) => {
      if (change.lead_id !== leadId || change.version <= latest) return;
      latest = change.version;
      warn(live.dataset.changedBy, change.actor);
    });

    // A form that carries the version read: saving it after someone else's change would fail.
    document.querySelectorAll('form input[name="version"]').forEach((input) => {
      input.form.addEventListener("submit", (event) => {
        if (latest > Number(input.value)) {
          event.preventDefault();
          warn(live.dataset.conflict, null);
          changed.scrollIntoView({ block: "center" });
        }
      });
    });

    return async () => {
      const response = await fetch("/api/v1/leads/" + leadId, { credentials: "same-origin" });
      if (!response.ok) return;
      const lead = await response.json();
      if (lead.version > latest) {
        latest = lead.version;
        warn(live.dataset.changedWhileAway, null);
      }
    };
  }

  // One connection per page, whichever script asks first (the bell's script asks too).
  function sharedSocket() {
    window.leadhubSocket = window.leadhubSocket || window.io(NAMESPACE, { withCredentials: true });
    return window.leadhubSocket;
  }

  // --- start ------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof window.io !== "function") return;
    const table = document.getElementById("lead-table");
    const live = document.getElementById("lead-live");
    const stats = document.querySelector("[data-live-stats]");
    if (!table && !live && !stats) return;
    const socket = sharedSocket();
    // The user's role, distributor or activation changed: the server ends this connection, and
    // the page is drawn again for the user as they are now (or sent to sign in).
    socket.on("access_changed", () => window.location.reload());
    if (!table && !live) {
      // A dashboard: its own script refetches its numbers when the counts in scope change.
      const changed = () => document.dispatchEvent(new CustomEvent("leadhub:stats-updated"));
      socket.on("stats_updated", changed);
      connectionBanner(socket, async () => changed());
      return;
    }
    const catchUp = table ? desk(socket, table) : leadPage(socket, live);
    connectionBanner(socket, () => catchUp().catch(() => undefined));
  });
})();
