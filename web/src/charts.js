// Charts on uPlot (vendored in vendor/uplot): a metric series with its anomalous periods
// shaded, and alerts per day stacked by severity.

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { h, parseUtc, SEVERITIES } from "./dom.js";

export const COLORS = { critical: "#b42318", high: "#e8590c", medium: "#d4a017", low: "#3b82c4" };
const BAND = {
  critical: "rgba(180,35,24,.16)",
  high: "rgba(232,89,12,.16)",
  medium: "rgba(212,160,23,.18)",
  low: "rgba(59,130,196,.14)",
};
const DAY = 86400;

const utc = (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC");
const epoch = (text) => (parseUtc(text)?.getTime() ?? 0) / 1e3;

// Charts follow their container's width (phone or desktop) and are freed with the view.
function sized(container, make) {
  let chart = null;
  const width = () => Math.max(240, Math.floor(container.clientWidth || 600));
  chart = make(width());
  const observer = new ResizeObserver(() => {
    const w = width();
    if (chart && Math.abs(chart.width - w) > 2) chart.setSize({ width: w, height: chart.height });
  });
  observer.observe(container);
  return () => {
    observer.disconnect();
    chart?.destroy();
    chart = null;
  };
}

// A band behind the line for each anomalous period; the alert being viewed is outlined.
function anomalyBands(anomalies, step, focusId) {
  return {
    hooks: {
      drawAxes: [
        (u) => {
          const { ctx } = u;
          const { top, height } = u.bbox;
          ctx.save();
          for (const a of anomalies) {
            const x0 = u.valToPos(a.x - step / 2, "x", true);
            const x1 = u.valToPos(a.x + step / 2, "x", true);
            ctx.fillStyle = BAND[a.severity] || BAND.low;
            ctx.fillRect(x0, top, Math.max(x1 - x0, 3), height);
            if (a.alert_id === focusId) {
              ctx.strokeStyle = COLORS[a.severity] || COLORS.low;
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.strokeRect(x0, top, Math.max(x1 - x0, 3), height);
            }
          }
          ctx.restore();
        },
      ],
    },
  };
}

export function seriesChart(container, { metric, dates, values, anomalies, focusId, interval }) {
  const xs = dates.map(epoch);
  const step = xs.length > 1 ? xs[1] - xs[0] : DAY;
  const marks = anomalies.map((a) => ({ ...a, x: xs[a.index] ?? epoch(a.date) }));
  const points = xs.map(() => null);
  for (const a of marks) if (a.index >= 0 && a.index < points.length) points[a.index] = values[a.index];
  const pointColor = (u, seriesIdx) => COLORS[marks[0]?.severity] || COLORS.low;
  return sized(container, (width) => {
    const opts = {
      width,
      height: 170,
      tzDate: utc,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { stroke: "#555", grid: { stroke: "#eee" }, values: interval === "1d" ? "{MMM} {D}" : undefined },
        { stroke: "#555", grid: { stroke: "#eee" }, size: 56 },
      ],
      series: [
        {
          label: "date",
          value: (u, v) =>
            v == null
              ? "—"
              : utc(v)
                  .toISOString()
                  .slice(0, interval === "1d" ? 10 : 16),
        },
        { label: metric, stroke: "#1f5fa8", width: 1.6, points: { show: false } },
        {
          label: "anomaly",
          stroke: pointColor,
          fill: pointColor,
          width: 0,
          paths: () => null,
          points: { show: true, size: 9, fill: pointColor, stroke: "#fff", width: 1 },
        },
      ],
      plugins: [anomalyBands(marks, step, focusId)],
    };
    return new uPlot(opts, [xs, values, points], container);
  });
}

// Alerts per day, stacked by severity: each bar is drawn at the running total, most
// severe at the bottom, so the visible slices are the per-severity counts.
export function dailyBars(container, trend) {
  const xs = trend.map((d) => epoch(d.date));
  const order = [...SEVERITIES]; // critical at the bottom
  const stacked = [];
  let running = xs.map(() => 0);
  for (const sev of order) {
    running = running.map((sum, i) => sum + (trend[i].by_severity?.[sev] || 0));
    stacked.push({ sev, values: running });
  }
  const bars = uPlot.paths.bars({ size: [0.7, 40] });
  const series = stacked.reverse().map(({ sev, values }) => ({
    label: sev,
    fill: COLORS[sev],
    stroke: COLORS[sev],
    width: 0,
    paths: bars,
    points: { show: false },
    // The legend shows this severity's own count, not the running total.
    value: (u, v, si, i) => (i == null ? "—" : String(trend[i]?.by_severity?.[sev] ?? 0)),
  }));
  return sized(container, (width) => {
    const opts = {
      width,
      height: 200,
      tzDate: utc,
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: (u, min, max) => [min - DAY / 2, max + DAY / 2] },
        y: { range: (u, min, max) => [0, Math.max(4, max * 1.1)] },
      },
      axes: [
        { stroke: "#555", grid: { show: false }, values: "{MMM} {D}" },
        { stroke: "#555", grid: { stroke: "#eee" }, size: 40 },
      ],
      series: [
        { label: "day", value: (u, v) => (v == null ? "—" : utc(v).toISOString().slice(0, 10)) },
        ...series,
      ],
    };
    return new uPlot(
      opts,
      [xs, ...series.map((s) => stacked.find((x) => x.sev === s.label).values)],
      container,
    );
  });
}

// Attributions as horizontal bars (HTML: readable on a phone, and each bar is labelled).
export function attributionBars(explanation) {
  const largest = Math.max(...explanation.map((a) => Math.abs(a.contribution)), 1e-9);
  return h(
    "ol",
    { class: "attributions" },
    explanation.map((a) =>
      h(
        "li",
        { dataset: { feature: a.feature } },
        h("span", { class: "feature" }, a.feature),
        h(
          "span",
          { class: "bar-track" },
          h("span", {
            class: `bar bar-${a.direction}`,
            style: { width: `${Math.max(2, (100 * Math.abs(a.contribution)) / largest).toFixed(1)}%` },
            title: `Shapley ${a.contribution.toFixed(3)}`,
          }),
        ),
        h(
          "span",
          { class: "values" },
          h("span", { class: `arrow arrow-${a.direction}` }, a.direction === "above" ? "▲" : "▼"),
          ` expected ${fmt(a.expected)} · actual `,
          h("strong", {}, fmt(a.actual)),
        ),
      ),
    ),
  );
}

function fmt(value) {
  const abs = Math.abs(value);
  return value.toLocaleString("en-US", { maximumFractionDigits: abs >= 100 ? 0 : abs >= 1 ? 2 : 3 });
}
