// Building DOM without innerHTML: every value from the API goes in as text, never markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "style" && typeof value === "object") {
      Object.assign(el.style, value); // CSSOM, which a strict style-src CSP allows
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, ...children);
  return el;
}

// Like Element.append, but skips null/undefined/false and flattens arrays.
export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function fill(el, ...children) {
  return append(clear(el), ...children);
}

// Periods and timestamps arrive without a zone: the API stores UTC.
export function parseUtc(text) {
  if (!text) return null;
  const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.length === 10 ? `${text}T00:00:00` : text}Z`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function day(text) {
  const date = parseUtc(text);
  return date ? date.toISOString().slice(0, 10) : "—";
}

export function when(text) {
  const date = parseUtc(text);
  return date ? `${date.toISOString().slice(0, 16).replace("T", " ")} UTC` : "—";
}

export function number(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const abs = Math.abs(value);
  const places = abs >= 100 ? 0 : abs >= 10 ? 1 : digits;
  return value.toLocaleString("en-US", { maximumFractionDigits: places });
}

export function minutes(value) {
  if (value === null || value === undefined) return "—";
  if (value < 60) return `${number(value, 1)} min`;
  if (value < 60 * 48) return `${number(value / 60, 1)} h`;
  return `${number(value / 1440, 1)} d`;
}

export const SEVERITIES = ["critical", "high", "medium", "low"]; // most severe first
export const SEVERITY_RANK = { low: 0, medium: 1, high: 2, critical: 3 };

export function badge(severity) {
  return h("span", { class: `sev sev-${severity}` }, severity);
}

export function statusChip(status) {
  return h("span", { class: `status status-${status}` }, status);
}

// A panel whose data could not be loaded says so in place of its content.
export function problem(error, what) {
  const missing = error && [404, 501].includes(error.status) && error.routeMissing;
  const text = missing
    ? `${what} is not available from this API yet.`
    : `Could not load ${what.toLowerCase()}: ${error?.message || error}`;
  return h("p", { class: "problem", role: "status" }, text);
}

// How a person reads an entity: its name first, its id secondary (once if they agree).
export function entityLabel(type, id, name) {
  return name && name !== id ? `${type} '${name}' (${id})` : `${type} ${id}`;
}

export function money(amount, currency) {
  try {
    return amount.toLocaleString("en-US", { style: "currency", currency, maximumFractionDigits: 0 });
  } catch {
    return `${currency} ${Math.round(amount).toLocaleString("en-US")}`;
  }
}

// "wasted spend $1,234 · sales at risk $5,678 (provisional)"; "" when it cost nothing.
export function impactText(impact) {
  if (!impact) return "";
  const parts = [];
  if (impact.wasted_spend >= 0.5) parts.push(`wasted spend ${money(impact.wasted_spend, impact.currency)}`);
  if (impact.sales_at_risk >= 0.5)
    parts.push(
      `sales at risk ${money(impact.sales_at_risk, impact.currency)}${impact.provisional ? " (provisional)" : ""}`,
    );
  if (!parts.length && impact.measure && impact.performance_degradation)
    parts.push(`${impact.measure} ${impact.performance_degradation > 0 ? "+" : ""}${Math.round(100 * impact.performance_degradation)}%`);
  return parts.join(" · ");
}
