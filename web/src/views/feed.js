// The alert feed: a profile's active alerts, one row per incident group, costliest first.

import {
  append,
  badge,
  clear,
  day,
  entityLabel,
  fill,
  h,
  impactText,
  problem,
  SEVERITIES,
  SEVERITY_RANK,
  statusChip,
  when,
} from "../dom.js";

const ENTITY_TYPES = ["account", "portfolio", "campaign", "keyword", "market", "ticker"];
const PAGE = 100;

// The group's face: the alert on the culprit itself if there is one, else the most severe.
function lead(members) {
  const onCause = members.filter((a) => a.root_causes?.[0]?.entity_id === a.entity_id);
  const pool = onCause.length ? onCause : members;
  return [...pool].sort(
    (a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.score - a.score,
  )[0];
}

// A group's impact summed over its periods: in each, the culprit's own alert's, else its
// largest member's — a keyword's money is inside its campaign's, so a sum would count it twice.
function groupImpact(members, lead) {
  const root = lead.root_causes?.[0]?.entity_id || lead.entity_id;
  const byPeriod = new Map();
  for (const a of members.filter((m) => m.impact)) {
    if (!byPeriod.has(a.period)) byPeriod.set(a.period, []);
    byPeriod.get(a.period).push(a);
  }
  const picked = [...byPeriod.values()].map((alerts) => {
    const own = alerts.filter((a) => a.entity_id === root);
    return (own.length ? own : alerts).sort((x, y) => y.impact.revenue_impact - x.impact.revenue_impact)[0].impact;
  });
  if (!picked.length) return null;
  const sum = (field) => picked.reduce((s, i) => s + (i[field] || 0), 0);
  return {
    currency: picked[0].currency,
    revenue_impact: sum("revenue_impact"),
    wasted_spend: sum("wasted_spend"),
    sales_at_risk: sum("sales_at_risk"),
    provisional: picked.some((i) => i.provisional),
    measure: lead.impact?.measure,
    performance_degradation: lead.impact?.performance_degradation || 0,
  };
}

export function groupAlerts(alerts) {
  const groups = new Map();
  for (const alert of alerts) {
    const key = alert.group_id || alert.alert_id;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(alert);
  }
  return (
    [...groups.entries()]
      .map(([key, members]) => ({
        key,
        members,
        lead: lead(members),
        impact: groupImpact(members, lead(members)),
        worst: members.reduce(
          (w, a) => (SEVERITY_RANK[a.severity] > SEVERITY_RANK[w] ? a.severity : w),
          "low",
        ),
        newest: members.reduce((n, a) => (a.created_at > n ? a.created_at : n), ""),
        period: members.reduce((n, a) => (a.period > n ? a.period : n), ""),
      }))
      // Costliest incident first, then the newest: by period, then by when it was raised.
      .sort(
        (a, b) =>
          (b.impact?.revenue_impact || 0) - (a.impact?.revenue_impact || 0) ||
          b.period.localeCompare(a.period) ||
          b.newest.localeCompare(a.newest) ||
          SEVERITY_RANK[b.worst] - SEVERITY_RANK[a.worst],
      )
  );
}

export function renderFeed(view, ctx) {
  const { api, profile, params } = ctx;
  const filters = { severity: params.get("severity") || "", entity_type: params.get("entity_type") || "" };
  const counts = h("section", { class: "counts", "aria-label": "active alerts by severity" });
  const list = h("section", { class: "feed", "aria-label": "alert groups" });
  const updated = h("span", { class: "muted updated" });
  const more = h("button", { type: "button", class: "more", hidden: true }, "Load more");
  let alerts = [];
  let cursor = null;
  let stopped = false;

  const select = (name, options) =>
    h(
      "select",
      { name, "aria-label": name.replace("_", " "), onchange: (e) => setFilter(name, e.target.value) },
      h("option", { value: "" }, name === "severity" ? "every severity" : "every entity type"),
      options.map((o) => h("option", { value: o, selected: filters[name] === o }, o)),
    );

  function setFilter(name, value) {
    filters[name] = value;
    const next = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
    history.replaceState(null, "", `#/alerts${next.toString() ? `?${next}` : ""}`);
    load();
  }

  append(
    view,
    h("h1", {}, "Active alerts ", h("span", { class: "muted" }, `· profile ${profile}`)),
    counts,
    h(
      "div",
      { class: "filters" },
      select("severity", SEVERITIES),
      select("entity_type", ENTITY_TYPES),
      updated,
    ),
    list,
    more,
  );

  async function loadCounts() {
    try {
      const stats = await api.statistics({ profile_id: profile });
      const matrix = stats.by_status_and_severity || {};
      fill(
        counts,
        ...SEVERITIES.map((sev) => {
          const active = (matrix.open?.[sev] || 0) + (matrix.acknowledged?.[sev] || 0);
          return h(
            "a",
            {
              class: `count sev-${sev}`,
              href: `#/alerts?severity=${sev}`,
              dataset: { severity: sev, count: active },
            },
            h("strong", {}, String(active)),
            h("span", {}, sev),
          );
        }),
      );
    } catch (error) {
      if (error.status === 404 && !error.routeMissing)
        fill(counts, h("p", { class: "muted" }, "No statistics for this profile yet."));
      else fill(counts, problem(error, "Statistics"));
    }
  }

  async function loadPage(after) {
    const page = await api.active({ profile_id: profile, limit: PAGE, cursor: after, ...filters });
    return [page.items || [], page.next_cursor || null];
  }

  let latest = 0; // answers to superseded requests (an older filter) are dropped
  async function load() {
    const mine = ++latest;
    try {
      const [items, next] = await loadPage(null);
      if (stopped || mine !== latest) return;
      alerts = items;
      cursor = next;
      draw();
      updated.textContent = `updated ${new Date().toISOString().slice(11, 19)} UTC`;
    } catch (error) {
      if (!stopped && mine === latest) fill(list, problem(error, "Alerts"));
    }
  }

  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      const [items, next] = await loadPage(cursor);
      alerts = alerts.concat(items);
      cursor = next;
      draw();
    } catch (error) {
      append(list, problem(error, "More alerts"));
    } finally {
      more.disabled = false;
    }
  });

  function draw() {
    const groups = groupAlerts(alerts);
    more.hidden = !cursor;
    clear(list);
    if (!groups.length) {
      append(list, h("p", { class: "empty" }, "No active alerts. All quiet."));
      return;
    }
    for (const g of groups) append(list, row(g));
  }

  function row(g) {
    const a = g.lead;
    const cause = a.root_causes?.[0];
    return h(
      "a",
      {
        class: `alert-row sev-edge-${g.worst}`,
        href: `#/alerts/${encodeURIComponent(a.alert_id)}`,
        dataset: {
          alertId: a.alert_id,
          entity: a.entity_id,
          severity: g.worst,
          group: g.key,
          cause: cause?.entity_id || "",
          impact: g.impact?.revenue_impact ?? 0,
        },
      },
      h(
        "div",
        { class: "row-head" },
        badge(g.worst),
        h("span", { class: "entity" }, entityLabel(a.entity_type, a.entity_id, a.entity_name)),
        impactText(g.impact) && h("span", { class: "impact" }, impactText(g.impact)),
        statusChip(a.status),
      ),
      h("div", { class: "sentence" }, cause ? cause.sentence : `score ${a.score.toFixed(4)}`),
      h(
        "div",
        { class: "row-meta muted" },
        `${day(g.period)} · ${g.members.length} alert${g.members.length === 1 ? "" : "s"} · raised ${when(g.newest)}`,
      ),
    );
  }

  loadCounts();
  load();
  const timer = setInterval(() => {
    if (document.visibilityState === "visible") {
      load();
      loadCounts();
    }
  }, ctx.refreshSeconds * 1000);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
