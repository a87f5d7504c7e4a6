// One alert: its metrics around the period with anomalies marked, the explanation, the root
// cause graph, the status history, and the workflow buttons.

import { attributionBars, seriesChart } from "../charts.js";
import {
  append,
  badge,
  day,
  entityLabel,
  fill,
  h,
  impactText,
  number,
  problem,
  statusChip,
  when,
} from "../dom.js";
import { rootCauseGraph } from "../rootcause.js";
import { drawWorkflow } from "./workflow.js";

const CHARTS = 4; // the most telling metrics, by attribution
const DAYS_BEFORE = 28;
const DAYS_AFTER = 7;
const MAX_HOPS = 6;

function shift(isoDay, days) {
  const d = new Date(`${isoDay}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function renderAlert(view, ctx, alertId) {
  const { api } = ctx;
  const cleanups = [];
  let stopped = false;
  const head = h("section", { class: "card alert-head" });
  const actions = h("section", { class: "card actions", "aria-label": "workflow" });
  const charts = h(
    "section",
    { class: "card", "aria-label": "metrics" },
    h("h2", {}, "Metrics around the alert"),
    h("p", { class: "muted" }, "Loading…"),
  );
  const explain = h("section", { class: "card", "aria-label": "explanation" });
  const cause = h("section", { class: "card", "aria-label": "root cause" }, h("h2", {}, "Root cause"));
  const history = h("section", { class: "card", "aria-label": "status history" });
  const deliveries = h("section", { class: "card", "aria-label": "deliveries" });
  append(
    view,
    h("a", { href: "#/alerts", class: "back" }, "← all alerts"),
    head,
    actions,
    h("div", { class: "grid" }, explain, cause),
    charts,
    history,
    deliveries,
  );

  let alert = null;
  let labelled = null; // the feedback saved on this alert (the API's, or ours once sent)

  async function refresh() {
    try {
      alert = await api.alert(alertId);
    } catch (error) {
      if (stopped) return;
      fill(
        view,
        h("a", { href: "#/alerts", class: "back" }, "← all alerts"),
        error.status === 404
          ? h("p", { class: "problem", role: "status" }, "No such alert in your account.")
          : problem(error, "The alert"),
      );
      return false;
    }
    if (stopped) return false;
    labelled = alert.feedback || labelled;
    drawHead();
    drawWorkflow(actions, {
      api,
      alert,
      labelled,
      changed: async (updated) => {
        alert = { ...alert, ...updated };
        await refresh();
      },
      onLabel: (saved) => {
        labelled = saved;
      },
    });
    drawHistory();
    drawDeliveries();
    return true;
  }

  function drawHead() {
    const a = alert;
    fill(
      head,
      h(
        "h1",
        {},
        badge(a.severity),
        " ",
        entityLabel(a.entity_type, a.entity_id, a.entity_name),
        " ",
        statusChip(a.status),
      ),
      h(
        "dl",
        { class: "facts" },
        fact("Period", a.interval === "1d" ? day(a.period) : when(a.period)),
        a.impact && fact("Impact", impactText(a.impact) || "no measurable cost"),
        a.impact?.measure &&
          fact(
            "Degradation",
            `${a.impact.measure} ${a.impact.performance_degradation > 0 ? "+" : ""}${Math.round(100 * a.impact.performance_degradation)}%`,
          ),
        fact("Score", `${a.score.toFixed(6)} (threshold ${a.threshold})`),
        fact("Raised", when(a.created_at)),
        fact("Run", h("a", { href: `#/runs/${encodeURIComponent(a.run_id)}` }, a.run_id)),
        a.acknowledged_by && fact("Acknowledged", `${a.acknowledged_by}, ${when(a.acknowledged_at)}`),
        a.resolved_by &&
          fact(
            "Resolved",
            `${a.resolved_by}, ${when(a.resolved_at)} (${number(a.resolution_minutes, 1)} min)`,
          ),
        a.resolution_notes && fact("Notes", a.resolution_notes),
        Object.keys(a.detector_scores || {}).length > 0 &&
          fact(
            "Detectors",
            Object.entries(a.detector_scores)
              .map(([k, v]) => `${k} ${v.toFixed(4)}`)
              .join(" · "),
          ),
      ),
    );
  }

  function drawHistory() {
    const rows = [
      h(
        "tr",
        {},
        h("td", {}, when(alert.created_at)),
        h("td", {}, "raised"),
        h("td", {}, "open"),
        h("td", {}, "detector"),
        h("td", {}, ""),
      ),
      ...(alert.history || []).map((c) =>
        h(
          "tr",
          { dataset: { status: c.status } },
          h("td", {}, when(c.at)),
          h("td", {}, c.previous),
          h("td", {}, statusChip(c.status)),
          h("td", {}, c.by),
          h("td", {}, c.notes || ""),
        ),
      ),
    ];
    fill(
      history,
      h("h2", {}, "Status history"),
      table("history", ["When", "From", "To", "By", "Notes"], rows),
    );
  }

  // Where the alert's group was announced: one row per channel (Slack, e-mail, SMS, LINE).
  function drawDeliveries() {
    const rows = (alert.deliveries || []).map((d) =>
      h(
        "tr",
        { dataset: { channel: d.channel, status: d.status } },
        h("td", {}, d.channel),
        h("td", {}, d.status.replace("_", " ")),
        h("td", {}, when(d.at)),
        h("td", {}, String(d.attempts)),
        h("td", {}, d.error || d.detail || ""),
      ),
    );
    fill(
      deliveries,
      h("h2", {}, "Deliveries"),
      rows.length === 0
        ? h("p", { class: "muted" }, "Not announced on any channel yet.")
        : table("deliveries", ["Channel", "Status", "When", "Attempts", "Detail"], rows),
    );
  }

  function drawExplanation() {
    const items = alert.explanation || [];
    fill(
      explain,
      h("h2", {}, "Why it alerted"),
      items.length
        ? attributionBars(items)
        : h("p", { class: "muted" }, "No explanation was recorded for this alert."),
    );
  }

  async function drawCharts() {
    const periodDay = alert.period.slice(0, 10);
    const today = new Date().toISOString().slice(0, 10);
    const end = shift(periodDay, DAYS_AFTER) < today ? shift(periodDay, DAYS_AFTER) : today;
    const wanted = [...(alert.explanation || [])]
      .sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution))
      .map((x) => x.feature)
      .slice(0, CHARTS);
    const query = {
      profile_id: alert.profile_id,
      from: shift(periodDay, -DAYS_BEFORE),
      to: end < periodDay ? periodDay : end,
      interval: alert.interval,
    };
    let data;
    try {
      data = await api.series(
        alert.entity_id,
        wanted.length ? { ...query, metrics: wanted.join(",") } : query,
      );
    } catch (error) {
      // Explanations of market profiles name indicators the series does not carry.
      if (error.status === 422 && wanted.length)
        data = await api.series(alert.entity_id, query).catch((e) => ({ error: e }));
      else data = { error };
    }
    if (stopped) return;
    fill(charts, h("h2", {}, "Metrics around the alert"));
    if (data.error) {
      append(charts, problem(data.error, "The metric series"));
      return;
    }
    const names = (wanted.length ? wanted.filter((m) => m in data.series) : [])
      .concat(Object.keys(data.series))
      .filter((m, i, all) => all.indexOf(m) === i)
      .slice(0, wanted.length || 3);
    const marked = data.anomalies || [];
    append(
      charts,
      h(
        "p",
        { class: "muted legend-note" },
        `${marked.length} anomalous period${marked.length === 1 ? "" : "s"} shaded; this alert's period is outlined.`,
      ),
    );
    const grid = h("div", { class: "charts" });
    append(charts, grid);
    for (const metric of names) {
      const box = h("div", {
        class: "chart",
        dataset: { metric, anomalies: marked.length, marked: marked.map((m) => m.date).join(" ") },
      });
      append(grid, h("figure", {}, h("figcaption", {}, metric), box));
      cleanups.push(
        seriesChart(box, {
          metric,
          dates: data.dates,
          values: data.series[metric],
          anomalies: marked,
          focusId: alert.alert_id,
          interval: data.interval,
        }),
      );
    }
  }

  async function ancestorsOf(entityId) {
    const chain = [];
    let parent = null;
    try {
      const self = await api.entity(entityId, { profile_id: alert.profile_id });
      parent = self.parent_id;
      for (let hop = 0; parent && hop < MAX_HOPS; hop += 1) {
        const p = await api.entity(parent, { profile_id: alert.profile_id });
        chain.push({
          entity_id: p.entity_id,
          entity_type: p.entity_type,
          name: p.name,
          anomalies: p.anomalies,
        });
        parent = p.parent_id;
      }
      return { chain, name: self.name };
    } catch (error) {
      return { chain, error };
    }
  }

  async function drawCause() {
    const first = alert.root_causes?.[0];
    const [family, affected] = await Promise.all([
      ancestorsOf(alert.entity_id),
      alert.group_id
        ? api.active({ profile_id: alert.profile_id, group_id: alert.group_id, limit: 200 }).then(
            (p) => (p.next_cursor ? 200 : p.items.length),
            () => null,
          )
        : Promise.resolve(1),
    ]);
    if (stopped) return;
    fill(cause, h("h2", {}, "Root cause"));
    if (!first) {
      append(cause, h("p", { class: "muted" }, "No root cause was traced for this alert."));
      return;
    }
    append(
      cause,
      h("p", { class: "cause-sentence" }, first.sentence),
      rootCauseGraph({
        entity: { entity_id: alert.entity_id, entity_type: alert.entity_type, name: family.name },
        ancestors: family.chain,
        cause: first,
        affected,
      }),
      h(
        "p",
        { class: "muted affected", dataset: { affected: affected ?? "" } },
        alert.group_id
          ? `${affected ?? "?"} active alert${affected === 1 ? "" : "s"} in this incident (group ${alert.group_id}).`
          : "This alert stands alone.",
      ),
      alert.root_causes.length > 1
        ? h(
            "details",
            {},
            h("summary", {}, "Other candidates"),
            h(
              "ul",
              {},
              alert.root_causes
                .slice(1)
                .map((c) =>
                  h(
                    "li",
                    {},
                    `${entityLabel(c.entity_type, c.entity_id, c.entity_name)} (${c.relation}, confidence ${c.confidence}): ${c.sentence}`,
                  ),
                ),
            ),
          )
        : null,
      family.error
        ? h(
            "p",
            { class: "muted" },
            "The entity's ancestors could not be read: the graph shows what the alert names.",
          )
        : null,
    );
  }

  refresh().then((ok) => {
    if (!ok) return;
    drawExplanation();
    drawCharts();
    drawCause();
  });
  return () => {
    stopped = true;
    for (const free of cleanups) free();
  };
}

// A scrolling table with a header row.
function table(name, headers, rows) {
  const head = h("thead", {}, h("tr", {}, headers.map((t) => h("th", {}, t))));
  return h("div", { class: "scroll" }, h("table", { class: name }, head, h("tbody", {}, rows)));
}

function fact(name, value) {
  return [h("dt", {}, name), h("dd", {}, value)];
}
