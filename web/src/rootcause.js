// The root cause as a small graph: the alert's entity, its ancestors up to the account,
// the culprit highlighted and how many alerts the incident holds.

import { append, svg } from "./dom.js";

const ROW = 58;
const BOX_W = 210;
const BOX_H = 38;

// Top (account) first, down to the alert's entity, then a descendant culprit below it.
export function chainOf(entity, ancestors, cause) {
  const nodes = [...ancestors].reverse().map((a) => ({ ...a, role: "ancestor" }));
  nodes.push({ ...entity, role: "entity" });
  if (cause && !nodes.some((n) => n.entity_id === cause.entity_id)) {
    if (cause.relation === "descendant")
      nodes.push({ entity_id: cause.entity_id, entity_type: cause.entity_type, role: "descendant" });
    else if (cause.relation === "ancestor")
      nodes.unshift({
        entity_id: cause.entity_id,
        entity_type: cause.entity_type,
        role: "ancestor",
        gap: true,
      });
  }
  return nodes;
}

export function rootCauseGraph({ entity, ancestors, cause, affected }) {
  const nodes = chainOf(entity, ancestors, cause);
  const sibling =
    cause?.relation === "sibling" ? { entity_id: cause.entity_id, entity_type: cause.entity_type } : null;
  const width = sibling ? 2 * BOX_W + 215 : BOX_W + 175;
  const height = nodes.length * ROW + 10;
  const root = svg("svg", {
    class: "rootcause",
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": `root cause graph: ${nodes.map((n) => n.entity_id).join(" → ")}`,
  });
  const x = 10;
  const y = (i) => 6 + i * ROW;
  nodes.forEach((node, i) => {
    if (i > 0) {
      append(
        root,
        svg("line", {
          x1: x + BOX_W / 2,
          y1: y(i - 1) + BOX_H,
          x2: x + BOX_W / 2,
          y2: y(i),
          class: node.gap || nodes[i - 1].gap ? "edge gap" : "edge",
        }),
      );
    }
    append(root, box(node, x, y(i), cause, affected));
  });
  if (sibling) {
    const at = nodes.findIndex((n) => n.role === "entity");
    const sx = x + BOX_W + 40;
    if (at > 0)
      append(
        root,
        svg("path", {
          d: `M${x + BOX_W / 2} ${y(at - 1) + BOX_H} L${sx + BOX_W / 2} ${y(at)}`,
          class: "edge",
        }),
      );
    append(root, box({ ...sibling, role: "sibling" }, sx, y(at), cause, affected));
  }
  return root;
}

function box(node, x, y, cause, affected) {
  const culprit = cause && node.entity_id === cause.entity_id;
  const classes = ["node", `node-${node.role}`, culprit ? "culprit" : ""].join(" ").trim();
  const group = svg("g", { class: classes, "data-entity": node.entity_id });
  append(
    group,
    svg("rect", { x, y, width: BOX_W, height: BOX_H, rx: 6 }),
    svg(
      "text",
      { x: x + 10, y: y + 16, class: "type" },
      `${node.entity_type}${node.role === "entity" ? " · this alert" : ""}`,
    ),
    svg("text", { x: x + 10, y: y + 31, class: "id" }, label(node)),
  );
  if (culprit) {
    const note =
      affected == null ? "root cause" : `root cause · ${affected} alert${affected === 1 ? "" : "s"}`;
    append(group, svg("text", { x: x + BOX_W + 8, y: y + 24, class: "culprit-note" }, note));
  }
  return group;
}

function label(node) {
  const text = node.name && node.name !== node.entity_id ? `${node.entity_id} ${node.name}` : node.entity_id;
  return text.length > 30 ? `${text.slice(0, 29)}…` : text;
}
