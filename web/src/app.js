// The dashboard's shell: configuration, sign-in, the profile, and a hash router over the views.

import { createApi } from "./api.js";
import { createAuth, takeFragment } from "./auth.js";
import { append, clear, fill, h } from "./dom.js";
import { renderAlert } from "./views/alert.js";
import { renderFeed } from "./views/feed.js";
import { renderRun, renderRuns } from "./views/runs.js";
import { renderStats } from "./views/stats.js";

const PROFILE = "tripwire.profile";
const view = document.getElementById("view");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const profileForm = document.getElementById("profile-form");
const profileInput = document.getElementById("profile");

// config.json sits beside the page: the local stack serves one, a deployment writes one
// (apiUrl, auth: "cognito", cognito: {domain, clientId}).
async function loadConfig() {
  try {
    const response = await fetch("config.json", { cache: "no-cache" });
    if (response.ok) return { apiUrl: "", auth: "local", refreshSeconds: 30, ...(await response.json()) };
  } catch {
    // no config: the API is this origin, signed in with a pasted token
  }
  return { apiUrl: "", auth: "local", refreshSeconds: 30 };
}

let config;
let auth;
let api;
let leave = () => {};
let booting = true; // one render once everything is in place, not one per step

function route() {
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const parts = (path || "/alerts").split("/").filter(Boolean).map(decodeURIComponent);
  return { parts: parts.length ? parts : ["alerts"], params: new URLSearchParams(query || "") };
}

function render() {
  leave();
  leave = () => {};
  clear(view);
  if (!auth.signedIn()) {
    nav.hidden = profileForm.hidden = true;
    clear(who);
    append(view, signIn());
    return;
  }
  const user = auth.user();
  fill(
    who,
    h("span", { class: "user", dataset: { tenant: user.tenant } }, `${user.name} · ${user.tenant}`),
    h("button", { type: "button", class: "link", onclick: () => auth.signOut() }, "Sign out"),
  );
  nav.hidden = profileForm.hidden = false;
  const profile = localStorage.getItem(PROFILE) || config.defaultProfile || "";
  profileInput.value = profile;
  const { parts, params } = route();
  for (const link of nav.querySelectorAll("a"))
    link.classList.toggle("active", link.dataset.nav === parts[0]);
  if (!profile) {
    append(
      view,
      h("p", { class: "problem" }, "Enter a profile id (an advertising account or market) above to begin."),
    );
    return;
  }
  const ctx = { api, profile, params, refreshSeconds: Number(config.refreshSeconds) || 30 };
  const page = h("div", { class: "page" });
  append(view, page);
  const [first, id] = parts;
  if (first === "alerts" && id) leave = renderAlert(page, ctx, id);
  else if (first === "stats") leave = renderStats(page, ctx);
  else if (first === "runs" && id) leave = renderRun(page, ctx, id);
  else if (first === "runs") leave = renderRuns(page, ctx);
  else leave = renderFeed(page, ctx);
}

function signIn(message = "") {
  const said = h("p", { class: "problem", role: "alert" }, message);
  if (auth.mode === "cognito") {
    return h(
      "section",
      { class: "card signin" },
      h("h1", {}, "Sign in"),
      said,
      h(
        "button",
        { type: "button", onclick: () => auth.signInWithCognito() },
        "Sign in with your organisation",
      ),
    );
  }
  const token = h("textarea", {
    name: "token",
    rows: 4,
    required: true,
    "aria-label": "token",
    placeholder: "eyJ…",
  });
  const profile = h("input", {
    name: "profile",
    value: localStorage.getItem(PROFILE) || "",
    placeholder: "A1",
    "aria-label": "profile id",
  });
  const form = h(
    "form",
    { class: "card signin" },
    h("h1", {}, "Sign in"),
    h("p", {}, "Paste a token from ", h("code", {}, "tripwire local token --tenant T --user U"), "."),
    token,
    h("label", {}, "Profile ", profile),
    h("button", { type: "submit" }, "Sign in"),
    said,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (profile.value.trim()) localStorage.setItem(PROFILE, profile.value.trim());
    said.textContent = auth.useToken(token.value);
  });
  return form;
}

// The tenant's profiles (from GET /models), offered as suggestions; the input takes any id.
let suggestedFor = "";
async function suggestProfiles() {
  try {
    const { items } = await api.models();
    fill(
      document.getElementById("profiles"),
      (items || []).map((m) => h("option", { value: m.profile_id })),
    );
  } catch {
    // suggestions only
  }
}

// A token (and profile) passed in the URL fragment, on load or on a later link.
function adopt() {
  const passed = takeFragment();
  if (passed.profile) localStorage.setItem(PROFILE, passed.profile);
  return passed.token ? auth.useToken(passed.token) : "";
}

function show(message) {
  booting = false;
  render();
  if (auth.signedIn() && suggestedFor !== auth.token()) {
    suggestedFor = auth.token(); // once per sign-in, not per page
    suggestProfiles();
  }
  if (message && !auth.signedIn()) fill(view, signIn(message));
}

async function main() {
  config = await loadConfig();
  auth = createAuth(config, () => booting || render());
  api = createApi(config.apiUrl, auth);
  const message = adopt() || (await auth.finishCognito());
  profileForm.addEventListener("submit", (event) => event.preventDefault());
  profileInput.addEventListener("change", () => {
    const value = profileInput.value.trim();
    if (value) localStorage.setItem(PROFILE, value);
    render();
  });
  window.addEventListener("hashchange", () => {
    booting = true;
    show(adopt());
  });
  show(message);
}

main();
