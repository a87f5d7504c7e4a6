// The workflow card of an alert: acknowledge, resolve with notes, and the user's label
// ("not an anomaly" / "real anomaly"), each reflected as soon as the API has it.

import { append, clear, fill, h, when } from "../dom.js";

// `changed(alert)` is told of each new state, `onLabel(feedback)` of each label saved.
export function drawWorkflow(card, { api, alert: a, labelled, changed, onLabel }) {
  const note = h("textarea", {
    name: "notes",
    rows: 2,
    placeholder: "What was it, what was done?",
    "aria-label": "resolution notes",
    maxlength: 4000,
  });
  const said = h("p", { class: "said", role: "status" });
  const labelLine = h("p", { class: "labelled", role: "status" }, ...labelText(labelled));
  const feedbackNote = h("input", {
    name: "feedback-note",
    placeholder: "note (optional)",
    "aria-label": "feedback note",
    maxlength: 4000,
  });
  const busy = async (button, work) => {
    button.disabled = true;
    clear(said);
    try {
      await work();
    } catch (error) {
      append(said, h("span", { class: "problem" }, error.message));
      button.disabled = false;
    }
  };
  const ack = h(
    "button",
    { type: "button", name: "acknowledge", disabled: a.status !== "open" },
    a.status === "open" ? "Acknowledge" : "Acknowledged",
  );
  ack.addEventListener("click", () =>
    busy(ack, async () => {
      await changed(await api.acknowledge(a.alert_id));
    }),
  );
  const resolve = h(
    "button",
    { type: "submit", name: "resolve", disabled: a.status === "resolved" },
    a.status === "resolved" ? "Resolved" : "Resolve",
  );
  const resolveForm = h("form", { class: "resolve" }, note, resolve);
  resolveForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!note.value.trim()) {
      said.textContent = "Say how it was resolved (notes are required).";
      note.focus();
      return;
    }
    busy(resolve, async () => {
      await changed(await api.resolve(a.alert_id, note.value.trim()));
    });
  });
  const label = (isAnomaly) => {
    const button = h(
      "button",
      { type: "button", name: isAnomaly ? "real-anomaly" : "not-anomaly", class: "secondary" },
      isAnomaly ? "Real anomaly" : "Not an anomaly",
    );
    button.addEventListener("click", () =>
      busy(button, async () => {
        labelled = await api.feedback(a.alert_id, isAnomaly, feedbackNote.value.trim());
        onLabel(labelled);
        fill(labelLine, ...labelText(labelled));
        button.disabled = false;
      }),
    );
    return button;
  };
  fill(
    card,
    h("h2", {}, "Workflow"),
    h("div", { class: "buttons" }, ack),
    a.status !== "resolved" ? resolveForm : null,
    h("div", { class: "buttons feedback" }, label(false), label(true), feedbackNote),
    labelLine,
    said,
  );
}

// The user's label on the alert, as saved.
function labelText(labelled) {
  if (!labelled) return [];
  const verdict = labelled.is_anomaly ? "a real anomaly" : "not an anomaly";
  const note = labelled.note ? ` "${labelled.note}"` : "";
  return [
    h(
      "span",
      { class: "ok", dataset: { feedback: labelled.is_anomaly ? "anomaly" : "not-anomaly" } },
      `Labelled ${verdict}${note} by ${labelled.by}, ${when(labelled.at)}: it trains the next model.`,
    ),
  ];
}
