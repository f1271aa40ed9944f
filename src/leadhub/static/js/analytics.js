// The analytics page: each panel loads from /api/v1/analytics/<panel> for the chosen period and
// scope, draws its chart beside its table, and links every number to the desk filtered to the
// leads behind it. Realtime `leadhub:stats-updated` events refetch. No inline scripts (CSP).
(() => {
  "use strict";

  const COLOURS = ["#0d6efd", "#6610f2", "#198754", "#fd7e14", "#dc3545", "#0dcaf0", "#6c757d"];
  const LEVEL_COLOURS = {
    hot: "#dc3545",
    warm: "#fd7e14",
    medium: "#ffc107",
    cool: "#0dcaf0",
    cold: "#6c757d",
  };
  const LEVELS = ["hot", "warm", "medium", "cool", "cold"];
  const CAMPAIGN_FILTER = { campaign: "campaign_id", adset: "adset_id", ad: "ad_id", form: "form_id", platform: "platform" };

  function element(tag, attributes = {}, text = null) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text !== null) node.textContent = text;
    return node;
  }

  const number = new Intl.NumberFormat(document.documentElement.lang || undefined);
  const percent = new Intl.NumberFormat(document.documentElement.lang || undefined, {
    style: "percent",
    maximumFractionDigits: 1,
  });
  const minutes = (seconds) => (seconds === null || seconds === undefined ? "—" : number.format(Math.round(seconds / 6) / 10));

  function cell(content, numeric = true) {
    const td = element("td", numeric ? { class: "text-end" } : {});
    if (content instanceof Node) td.append(content);
    else td.textContent = content;
    return td;
  }

  function fill(table, rows) {
    const body = table.querySelector("tbody");
    body.replaceChildren(...rows);
  }

  function chart(state, id, config) {
    if (!window.Chart) return;
    const canvas = document.getElementById(id);
    if (!canvas) return;
    if (state.charts[id]) state.charts[id].destroy();
    config.options = { animation: false, responsive: true, ...(config.options || {}) };
    state.charts[id] = new window.Chart(canvas, config);
  }

  function page(root) {
    const form = document.getElementById("analytics-filters");
    const labels = JSON.parse(root.dataset.labels || "{}");
    const word = (code) => labels[code] || code;
    const state = { charts: {}, sort: "leads", order: "desc", period: null };

    function scopeParams() {
      const params = new URLSearchParams();
      for (const name of ["period", "from", "to", "distributor_id", "campaign_id"]) {
        const field = form.elements[name];
        if (field && field.value) params.set(name, field.value);
      }
      if (params.get("period") !== "custom") {
        params.delete("from");
        params.delete("to");
      }
      return params;
    }

    // A link to the desk: the period's leads in the page's scope, narrowed by `extra`.
    function desk(extra = {}, from = null, to = null) {
      const params = new URLSearchParams();
      params.set("created_from", from || state.period.from);
      params.set("created_to", to || state.period.to);
      const base = scopeParams();
      for (const name of ["distributor_id", "campaign_id"]) if (base.get(name)) params.set(name, base.get(name));
      if (root.dataset.agentId) params.set("assignee_id", root.dataset.agentId);
      for (const [name, value] of Object.entries(extra)) if (value !== null && value !== undefined) params.set(name, value);
      return `${root.dataset.leadsUrl}?${params}`;
    }

    function link(text, extra, from, to) {
      return element("a", { href: desk(extra, from, to), "data-desk-link": "" }, text);
    }

    async function load(panel, extra = {}) {
      const params = scopeParams();
      for (const [name, value] of Object.entries(extra)) params.set(name, value);
      const response = await fetch(`${root.dataset.api}/${panel}?${params}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const body = await response.json();
      if (!response.ok) throw new Error((body.error && body.error.message) || response.status);
      state.period = body.period;
      return body;
    }

    function showFunnel(data) {
      const previous = Object.fromEntries(data.previous.stages.map((s) => [s.status, s.count]));
      const rows = data.stages.map((s) => {
        const tr = element("tr", { "data-stage": s.status });
        const extra = s.status === "new" ? {} : { reached: s.status };
        tr.append(
          cell(word(s.status), false),
          cell(link(number.format(s.count), extra)),
          cell(percent.format(s.rate)),
          cell(percent.format(s.step_rate)),
          cell(number.format(previous[s.status] || 0)),
        );
        return tr;
      });
      for (const c of data.closed) {
        const tr = element("tr", { "data-stage": c.status });
        tr.append(cell(word(c.status), false), cell(link(number.format(c.count), { status: c.status })), cell(percent.format(c.rate)), cell(""), cell(""));
        rows.push(tr);
      }
      fill(document.getElementById("funnel-table"), rows);
      fill(
        document.getElementById("reasons-table"),
        data.closed.flatMap((c) =>
          c.reasons.map((r) => {
            const tr = element("tr");
            tr.append(cell(word(c.status), false), cell(r.reason ? word(r.reason) : "—", false), cell(number.format(r.count)));
            return tr;
          }),
        ),
      );
      chart(state, "funnel-chart", {
        type: "bar",
        data: {
          labels: data.stages.map((s) => word(s.status)),
          datasets: [
            { label: form.dataset.now || "", data: data.stages.map((s) => s.count), backgroundColor: "#0d6efd" },
            { label: "", data: data.previous.stages.map((s) => s.count), backgroundColor: "#adb5bd" },
          ],
        },
        options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
    }

    function showSpeed(data) {
      const set = (name, text) => {
        const node = root.querySelector(`[data-speed="${name}"]`);
        if (node) node.replaceChildren(text instanceof Node ? text : document.createTextNode(text));
      };
      set("median", `${minutes(data.median_seconds)} min`);
      set("median-previous", `← ${minutes(data.previous.median_seconds)} min`);
      set("p90", `${minutes(data.p90_seconds)} min`);
      set("p90-previous", `← ${minutes(data.previous.p90_seconds)} min`);
      set("sla-title", `≤ ${data.sla_minutes} min`);
      set("sla", percent.format(data.sla_share));
      set("sla-previous", `← ${percent.format(data.previous.sla_share)}`);
      set("contacted", link(number.format(data.contacted), { reached: "contacted" }));
      fill(
        document.getElementById("speed-table"),
        data.by_staff.map((s) => {
          const tr = element("tr", { "data-user-id": String(s.user_id) });
          tr.append(
            cell(s.name || "—", false),
            cell(link(number.format(s.leads), { assignee_id: s.user_id })),
            cell(minutes(s.median_seconds)),
            cell(minutes(s.p90_seconds)),
            cell(percent.format(s.sla_share)),
          );
          return tr;
        }),
      );
      chart(state, "speed-chart", {
        type: "bar",
        data: {
          labels: data.by_staff.map((s) => s.name || "—"),
          datasets: [{ data: data.by_staff.map((s) => (s.median_seconds === null ? 0 : s.median_seconds / 60)), backgroundColor: "#6610f2" }],
        },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
      });
    }

    function showDistributors(data) {
      fill(
        document.getElementById("distributors-table"),
        data.items.map((d) => {
          const tr = element("tr", { "data-distributor-id": String(d.distributor_id) });
          const only = { distributor_id: d.distributor_id };
          tr.append(
            cell(String(d.rank), false),
            cell(d.name || "—", false),
            cell(link(number.format(d.leads), only)),
            cell(link(percent.format(d.contact_rate), { ...only, reached: "contacted" })),
            cell(link(percent.format(d.conversion_rate), { ...only, reached: "converted" })),
            cell(minutes(d.median_seconds)),
            cell(number.format(d.duplicates)),
          );
          return tr;
        }),
      );
      chart(state, "distributors-chart", {
        type: "bar",
        data: {
          labels: data.items.map((d) => d.name || "—"),
          datasets: [{ data: data.items.map((d) => d.leads), backgroundColor: COLOURS }],
        },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
    }

    function showStaff(data) {
      fill(
        document.getElementById("staff-table"),
        data.items.map((s) => {
          const tr = element("tr", { "data-user-id": String(s.user_id) });
          const mine = { assignee_id: s.user_id };
          const work = Object.entries(s.interactions).map(([kind, n]) => `${word(kind)} ${number.format(n)}`).join(", ");
          const open = element("a", { href: `${root.dataset.leadsUrl}?assignee_id=${s.user_id}&status=new&status=assigned&status=contacted`, "data-desk-link": "" }, number.format(s.open_now));
          tr.append(
            cell(s.name || "—", false),
            cell(link(number.format(s.assigned), mine)),
            cell(link(number.format(s.contacted), { ...mine, reached: "contacted" })),
            cell(link(number.format(s.converted), { ...mine, reached: "converted" })),
            cell(percent.format(s.conversion_rate)),
            cell(minutes(s.median_seconds)),
            cell(open),
            cell(work, false),
          );
          return tr;
        }),
      );
    }

    function showCampaigns(data) {
      const filter = CAMPAIGN_FILTER[data.by];
      fill(
        document.getElementById("campaigns-table"),
        data.items.map((c) => {
          const tr = element("tr");
          const name = data.by === "platform" ? word(c.key || "") || "—" : c.name || c.key || "—";
          const leads = c.key ? link(number.format(c.leads), { [filter]: c.key }) : number.format(c.leads);
          tr.append(
            cell(name, false),
            cell(leads),
            cell(number.format(c.average_score)),
            cell(c.key ? link(number.format(c.converted), { [filter]: c.key, reached: "converted" }) : number.format(c.converted)),
            cell(percent.format(c.conversion_rate)),
            cell(number.format(c.previous_leads)),
          );
          return tr;
        }),
      );
      chart(state, "campaigns-chart", {
        type: "doughnut",
        data: {
          labels: data.items.slice(0, 10).map((c) => c.name || c.key || "—"),
          datasets: [{ data: data.items.slice(0, 10).map((c) => c.leads), backgroundColor: COLOURS }],
        },
      });
    }

    function showTrends(data) {
      const ends = data.labels.slice(1).map((day) => {
        const d = new Date(`${day}T00:00:00Z`);
        d.setUTCDate(d.getUTCDate() - 1);
        return d.toISOString().slice(0, 10);
      });
      ends.push(data.period.to);
      fill(
        document.getElementById("trends-table"),
        data.labels.map((label, i) => {
          const from = label < data.period.from ? data.period.from : label;
          const to = ends[i];
          const tr = element("tr");
          tr.append(
            cell(label, false),
            cell(link(number.format(data.leads[i]), {}, from, to)),
            ...LEVELS.map((level) => cell(number.format(data.by_level[level][i]))),
          );
          return tr;
        }),
      );
      const kinds = document.getElementById("interaction-kinds");
      kinds.replaceChildren(
        ...Object.entries(data.interactions_total)
          .filter(([, n]) => n > 0)
          .map(([kind, n]) => element("li", { class: "list-inline-item", "data-kind": kind }, `${word(kind)}: ${number.format(n)}`)),
      );
      chart(state, "trends-chart", {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: LEVELS.map((level) => ({ label: word(level), data: data.by_level[level], backgroundColor: LEVEL_COLOURS[level] })),
        },
        options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
      });
    }

    const error = document.getElementById("analytics-error");
    async function refresh() {
      try {
        const by = document.getElementById("campaigns-by").value;
        const bucket = document.getElementById("trends-bucket").value;
        const [funnel, speed, distributors, staff, campaigns, trends] = await Promise.all([
          load("funnel"),
          load("speed"),
          load("distributors", { sort: state.sort, order: state.order }),
          load("staff"),
          load("campaigns", { by }),
          load("trends", { bucket }),
        ]);
        state.period = funnel.period;
        showFunnel(funnel);
        showSpeed(speed);
        showDistributors(distributors);
        showStaff(staff);
        showCampaigns(campaigns);
        showTrends(trends);
        error.classList.add("d-none");
        root.dataset.loaded = "true";
      } catch (problem) {
        error.classList.remove("d-none");
        console.warn("analytics: refresh failed", problem);
      }
    }

    root.querySelectorAll("[data-sort]").forEach((button) =>
      button.addEventListener("click", () => {
        const key = button.dataset.sort;
        state.order = state.sort === key && state.order === "desc" ? "asc" : "desc";
        state.sort = key;
        refresh();
      }),
    );
    document.getElementById("campaigns-by").addEventListener("change", refresh);
    document.getElementById("trends-bucket").addEventListener("change", refresh);
    // A named period needs no dates; picking dates makes it custom.
    form.elements.period.addEventListener("change", () => form.requestSubmit());
    for (const name of ["from", "to"]) {
      form.elements[name].addEventListener("change", () => {
        form.elements.period.value = "custom";
      });
    }
    let waiting = null;
    document.addEventListener("leadhub:stats-updated", () => {
      if (waiting === null) {
        waiting = window.setTimeout(() => {
          waiting = null;
          refresh();
        }, 500);
      }
    });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.getElementById("analytics");
    if (root) page(root);
  });
})();
