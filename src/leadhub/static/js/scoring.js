// The scoring pages: the dashboard redraws every 30 seconds from the JSON API, and the rule-set
// page follows a rescore's progress. No inline scripts: the Content-Security-Policy forbids them.
(() => {
  "use strict";

  const LEVEL_COLOURS = {
    hot: "#dc3545",
    warm: "#fd7e14",
    medium: "#ffc107",
    cool: "#0dcaf0",
    cold: "#6c757d",
  };

  async function getJSON(url) {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return response.json();
  }

  function element(tag, attributes = {}, text = null) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text !== null) node.textContent = text;
    return node;
  }

  function levelChart(root) {
    const canvas = root.querySelector("#level-chart");
    const items = [...root.querySelectorAll("#level-counts [data-level]")];
    if (!canvas || !window.Chart) return null;
    const labels = items.map((item) => item.querySelector(".badge").textContent);
    const levels = items.map((item) => item.dataset.level);
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels,
        datasets: [
          {
            data: items.map((item) => Number(item.querySelector("[data-count]").textContent)),
            backgroundColor: levels.map((level) => LEVEL_COLOURS[level]),
          },
        ],
      },
      options: {
        animation: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  function showTop(root, top, labels) {
    const body = root.querySelector("#top-leads tbody");
    if (!body) return;
    const leadsUrl = root.dataset.leadsUrl;
    const when = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      dateStyle: "short",
      timeStyle: "short",
      timeZone: root.dataset.timeZone || undefined,
    });
    const rows = top.map((lead) => {
      const row = element("tr", { "data-lead-id": String(lead.id) });
      const name = element("td");
      name.append(element("a", { href: `${leadsUrl}/${lead.id}` }, lead.full_name || "—"));
      const score = element("td");
      score.append(
        element(
          "span",
          { class: `badge level-${lead.score_level}` },
          `${lead.score} · ${labels[lead.score_level] || lead.score_level}`,
        ),
      );
      const status = element("td");
      status.append(
        element("span", { class: `badge status-${lead.status}` }, labels[lead.status] || lead.status),
      );
      row.append(
        name,
        score,
        status,
        element("td", {}, lead.treatment ? labels[lead.treatment] || lead.treatment : ""),
        element("td", {}, when.format(new Date(lead.created_time))),
      );
      return row;
    });
    if (rows.length) body.replaceChildren(...rows);
  }

  function show(root, chart, summary) {
    const labels = JSON.parse(root.dataset.labels || "{}");
    for (const { level, count } of summary.levels) {
      const item = root.querySelector(`#level-counts [data-level="${level}"] [data-count]`);
      if (item) item.textContent = String(count);
    }
    if (chart) {
      const order = [...root.querySelectorAll("#level-counts [data-level]")].map((i) => i.dataset.level);
      const counts = Object.fromEntries(summary.levels.map(({ level, count }) => [level, count]));
      chart.data.datasets[0].data = order.map((level) => counts[level] || 0);
      chart.update();
    }
    for (const { name, count, capped } of summary.recommendations) {
      const card = root.querySelector(`[data-recommendation="${name}"]`);
      if (!card) continue;
      card.querySelector("[data-count]").textContent = String(count);
      card.querySelector("[data-capped]").textContent = capped ? "+" : "";
    }
    showTop(root, summary.top, labels);
  }

  function dashboard(root) {
    const chart = levelChart(root);
    const seconds = Number(root.dataset.refreshSeconds || 30);
    const refresh = async () => {
      try {
        show(root, chart, await getJSON(root.dataset.summaryUrl));
      } catch (error) {
        console.warn("scoring: refresh failed", error);
      }
    };
    window.setInterval(refresh, seconds * 1000);
    // Live: the counts in scope changed (static/js/realtime.js; at most once a second per
    // room); events within a quarter second make one refetch.
    let waiting = null;
    document.addEventListener("leadhub:stats-updated", () => {
      if (waiting === null) {
        waiting = window.setTimeout(() => {
          waiting = null;
          refresh();
        }, 250);
      }
    });
  }

  function progress(box) {
    const bar = box.querySelector("progress");
    const field = (name) => box.querySelector(`[data-run-${name}]`);
    const poll = async () => {
      let run;
      try {
        run = await getJSON(box.dataset.runUrl);
      } catch (error) {
        console.warn("scoring: progress failed", error);
        window.setTimeout(poll, 5000);
        return;
      }
      bar.value = run.percent;
      field("word").textContent = box.dataset[`word${run.status[0].toUpperCase()}${run.status.slice(1)}`] || run.status;
      field("done").textContent = String(run.done);
      field("total").textContent = String(run.total);
      field("percent").textContent = String(run.percent);
      if (run.status !== "done" && run.status !== "failed") window.setTimeout(poll, 1000);
    };
    if (box.dataset.status !== "done" && box.dataset.status !== "failed") poll();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.getElementById("scoring-dashboard");
    if (root) dashboard(root);
    const box = document.getElementById("rescore-progress");
    if (box) progress(box);
  });
})();
