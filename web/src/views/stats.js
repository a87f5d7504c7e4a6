// A profile's figures: alerts per day by severity, time to acknowledge and resolve, top entities.

import { dailyBars } from "../charts.js";
import { append, fill, h, minutes, problem, SEVERITIES } from "../dom.js";

function shift(isoDay, days) {
  const d = new Date(`${isoDay}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// Counters are kept per alert period: end the default range at the newest alert's period,
// so an account whose data stops in the past still shows its trend.
async function defaultEnd(api, profile) {
  const today = new Date().toISOString().slice(0, 10);
  try {
    const page = await api.active({ profile_id: profile, limit: 50 });
    const newest = (page.items || []).reduce(
      (n, a) => (a.period.slice(0, 10) > n ? a.period.slice(0, 10) : n),
      "",
    );
    return newest && newest < today ? newest : today;
  } catch {
    return today;
  }
}

export function renderStats(view, ctx) {
  const { api, profile, params } = ctx;
  const body = h("div", { class: "stats-body" }, h("p", { class: "muted" }, "Loading…"));
  const from = h("input", { type: "date", name: "from", "aria-label": "from" });
  const to = h("input", { type: "date", name: "to", "aria-label": "to" });
  const form = h(
    "form",
    { class: "filters" },
    h("label", {}, "From ", from),
    h("label", {}, "to ", to),
    h("button", { type: "submit" }, "Show"),
  );
  let cleanup = () => {};
  let stopped = false;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    history.replaceState(null, "", `#/stats?from=${from.value}&to=${to.value}`);
    load();
  });
  append(view, h("h1", {}, "Statistics ", h("span", { class: "muted" }, `· profile ${profile}`)), form, body);

  async function load() {
    cleanup();
    let stats;
    try {
      stats = await api.statistics({ profile_id: profile, from: from.value, to: to.value });
    } catch (error) {
      if (!stopped)
        fill(
          body,
          error.status === 404 && !error.routeMissing
            ? h("p", { class: "problem" }, `No profile ${profile} in your account.`)
            : problem(error, "Statistics"),
        );
      return;
    }
    if (stopped) return;
    const chart = h("div", {
      class: "chart daily",
      dataset: { days: stats.trend.length, raised: stats.range.raised },
    });
    fill(
      body,
      h(
        "div",
        { class: "tiles" },
        tile("Alerts stored", stats.alerts),
        tile("Open", stats.by_status?.open ?? 0),
        tile("Acknowledged", stats.by_status?.acknowledged ?? 0),
        tile("Resolved", stats.by_status?.resolved ?? 0),
        tile("Mean time to acknowledge", minutes(stats.mean_minutes_to_acknowledge), "mtta"),
        tile("Mean time to resolve", minutes(stats.mean_minutes_to_resolve), "mttr"),
      ),
      h(
        "section",
        { class: "card" },
        h("h2", {}, `Alerts per day by severity · ${stats.from} to ${stats.to}`),
        h(
          "p",
          { class: "muted" },
          `${stats.range.raised} raised: `,
          SEVERITIES.map((s) => `${stats.range.by_severity[s]} ${s}`).join(", "),
        ),
        chart,
      ),
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Top entities"),
        stats.top_entities.length
          ? h(
              "ol",
              { class: "top-entities" },
              stats.top_entities.map((e) =>
                h(
                  "li",
                  { dataset: { entity: e.entity_id } },
                  h(
                    "a",
                    { href: `#/alerts?entity_id=${encodeURIComponent(e.entity_id)}` },
                    `${e.entity_type} ${e.entity_id}`,
                  ),
                  ` · ${e.alerts} alert${e.alerts === 1 ? "" : "s"}`,
                ),
              ),
            )
          : h("p", { class: "muted" }, "No alerts in this range."),
      ),
    );
    cleanup = dailyBars(chart, stats.trend);
  }

  (async () => {
    const end = params.get("to") || (await defaultEnd(api, profile));
    to.value = end;
    from.value = params.get("from") || shift(end, -29);
    if (!stopped) load();
  })();
  return () => {
    stopped = true;
    cleanup();
  };
}

function tile(name, value, key) {
  return h(
    "div",
    { class: "tile", dataset: { tile: key || name.toLowerCase() } },
    h("strong", {}, String(value)),
    h("span", {}, name),
  );
}
