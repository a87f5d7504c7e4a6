// `npx eslint@9 src` (from web/): catches undefined and unused names in the modules.
const browser = [
  "atob",
  "btoa",
  "clearInterval",
  "console",
  "crypto",
  "devicePixelRatio",
  "document",
  "fetch",
  "history",
  "localStorage",
  "location",
  "Node",
  "ResizeObserver",
  "sessionStorage",
  "TextEncoder",
  "setInterval",
  "URLSearchParams",
  "window",
];

export default [
  {
    files: ["src/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: Object.fromEntries(browser.map((name) => [name, "readonly"])),
    },
    rules: {
      "no-undef": "error",
      "no-unused-vars": ["error", { args: "none" }],
      "no-unreachable": "error",
      "no-dupe-keys": "error",
    },
  },
];
