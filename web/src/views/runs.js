// Recent detection runs and backfills of a profile, with their progress; one run in full.

import { append, fill, h, number, parseUtc, problem, statusChip, when } from "../dom.js";

const itemsOf = (data) => (Array.isArray(data) ? data : data?.items || data?.runs || []);

function seconds(run) {
  if (run.duration_ms != null) return run.duration_ms / 1000;
  const [a, b] = [parseUtc(run.started_at), parseUtc(run.completed_at)];
  return a && b ? (b - a) / 1000 : null;
}

// Fanned-out runs (backfills) may report {done, total} slices; others are done or running.
function progress(run) {
  const { done = 0, total = 0 } = run.progress || {};
  if (total) {
    const share = Math.min(1, done / total);
    return h(
      "span",
      { class: "progress", title: `${done} of ${total}` },
      h("progress", { max: 1, value: share }),
      ` ${Math.round(share * 100)}%`,
    );
  }
  if (run.status !== "in_progress") return "";
  const rows = run.rows_processed ? ` ${number(run.rows_processed)} rows so far` : "";
  return h("span", { class: "muted" }, `running…${rows}`);
}

export function renderRuns(view, ctx) {
  const { api, profile } = ctx;
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  append(
    view,
    h("h1", {}, "Runs and backfills ", h("span", { class: "muted" }, `· profile ${profile}`)),
    body,
  );
  let stopped = false;

  async function load() {
    let runs;
    try {
      runs = itemsOf(await api.runs({ profile_id: profile }));
    } catch (error) {
      if (!stopped) fill(body, problem(error, "The run history"));
      return;
    }
    if (stopped) return;
    fill(
      body,
      runs.length
        ? h(
            "div",
            { class: "scroll" },
            h(
              "table",
              { class: "runs" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ["Started", "Trigger", "Status", "Progress", "Entities", "Anomalies", "Took"].map((t) =>
                    h("th", {}, t),
                  ),
                ),
              ),
              h(
                "tbody",
                {},
                runs.map((r) =>
                  h(
                    "tr",
                    { dataset: { runId: r.run_id, trigger: r.trigger } },
                    h(
                      "td",
                      {},
                      h("a", { href: `#/runs/${encodeURIComponent(r.run_id)}` }, when(r.started_at)),
                    ),
                    h("td", {}, r.trigger),
                    h("td", {}, statusChip(r.status)),
                    h("td", {}, progress(r)),
                    h("td", {}, number(r.entities_checked)),
                    h("td", {}, number(r.anomalies_found)),
                    h("td", {}, seconds(r) == null ? "—" : `${number(seconds(r), 1)} s`),
                  ),
                ),
              ),
            ),
          )
        : h("p", { class: "empty" }, "No runs yet."),
    );
  }
  load();
  const timer = setInterval(
    () => document.visibilityState === "visible" && load(),
    ctx.refreshSeconds * 1000,
  );
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

export function renderRun(view, ctx, runId) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  append(view, h("a", { href: "#/runs", class: "back" }, "← all runs"), h("h1", {}, `Run ${runId}`), body);
  let stopped = false;
  ctx.api.run(runId).then(
    (r) => {
      if (stopped) return;
      fill(
        body,
        h(
          "dl",
          { class: "facts" },
          [
            ["Trigger", r.trigger],
            ["Status", statusChip(r.status)],
            ["Progress", progress(r) || "—"],
            ["Started", when(r.started_at)],
            ["Completed", when(r.completed_at)],
            ["Entities checked", number(r.entities_checked)],
            ["Rows processed", number(r.rows_processed)],
            ["Anomalies", number(r.anomalies_found)],
            ["Error", r.error || "—"],
          ].map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
        ),
        h("h2", {}, "Model versions"),
        h(
          "ul",
          { class: "versions" },
          Object.entries(r.model_versions || {}).map(([k, v]) =>
            h("li", {}, `${k} `, h("code", {}, v.slice(0, 12))),
          ),
        ),
        (r.warnings || []).length
          ? [
              h("h2", {}, "Warnings"),
              h(
                "ul",
                {},
                r.warnings.map((w) => h("li", {}, w)),
              ),
            ]
          : null,
      );
    },
    (error) =>
      !stopped &&
      fill(
        body,
        error.status === 404 && !error.routeMissing
          ? h("p", { class: "problem" }, "No such run in your account.")
          : problem(error, "The run"),
      ),
  );
  return () => {
    stopped = true;
  };
}
