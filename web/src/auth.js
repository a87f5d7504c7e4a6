// Who is signed in. Locally: a token from `tripwire local token`, pasted or passed in the URL
// fragment (#token=…, never sent to a server). In AWS: Cognito's hosted UI, code flow + PKCE.
// The id token lives in sessionStorage: it goes when the tab does.

const TOKEN = "tripwire.token";
const PKCE = "tripwire.pkce";

function b64urlDecode(part) {
  const padded = part
    .replace(/-/g, "+")
    .replace(/_/g, "/")
    .padEnd(Math.ceil(part.length / 4) * 4, "=");
  return decodeURIComponent(
    Array.from(atob(padded), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""),
  );
}

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

export function claimsOf(token) {
  try {
    return JSON.parse(b64urlDecode(token.split(".")[1]));
  } catch {
    return null;
  }
}

function usable(token) {
  const claims = token ? claimsOf(token) : null;
  return Boolean(claims && claims["custom:tenant_id"] && (!claims.exp || claims.exp * 1000 > Date.now()));
}

export function createAuth(config, onChange) {
  const cognito = config.auth === "cognito" ? config.cognito || {} : null;
  const domain = cognito?.domain
    ? cognito.domain.startsWith("http")
      ? cognito.domain
      : `https://${cognito.domain}`
    : "";
  const redirectUri = cognito?.redirectUri || `${location.origin}${location.pathname}`;

  const auth = {
    mode: cognito ? "cognito" : "local",
    token: () => sessionStorage.getItem(TOKEN) || "",
    signedIn: () => usable(sessionStorage.getItem(TOKEN)),
    claims: () => claimsOf(sessionStorage.getItem(TOKEN) || "") || {},
    user() {
      const c = auth.claims();
      return {
        tenant: c["custom:tenant_id"] || "",
        name: c["cognito:username"] || c.username || c.email || c.sub || "",
      };
    },
    // Returns an error text, or "" when the token was taken.
    useToken(token) {
      const clean = (token || "").trim().replace(/^Bearer\s+/i, "");
      if (!claimsOf(clean)) return "That is not a token (expected header.payload.signature).";
      if (!usable(clean)) return "The token has expired or names no tenant: issue a new one.";
      sessionStorage.setItem(TOKEN, clean);
      onChange();
      return "";
    },
    signOut() {
      sessionStorage.removeItem(TOKEN);
      if (cognito && domain) {
        const back = encodeURIComponent(cognito.logoutUri || redirectUri);
        location.assign(
          `${domain}/logout?client_id=${encodeURIComponent(cognito.clientId)}&logout_uri=${back}`,
        );
        return;
      }
      onChange();
    },
    expired() {
      sessionStorage.removeItem(TOKEN);
      onChange();
    },
    async signInWithCognito() {
      const verifier = b64url(crypto.getRandomValues(new Uint8Array(48)));
      const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
      const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
      sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state }));
      const params = new URLSearchParams({
        response_type: "code",
        client_id: cognito.clientId,
        redirect_uri: redirectUri,
        scope: cognito.scope || "openid email profile",
        state,
        code_challenge_method: "S256",
        code_challenge: challenge,
      });
      location.assign(`${domain}/oauth2/authorize?${params}`);
    },
    // On the way back from the hosted UI: trade the code for tokens, then tidy the URL.
    async finishCognito() {
      const params = new URLSearchParams(location.search);
      const code = params.get("code");
      if (!cognito || !code) return "";
      const saved = JSON.parse(sessionStorage.getItem(PKCE) || "{}");
      sessionStorage.removeItem(PKCE);
      history.replaceState(null, "", `${location.pathname}${location.hash || "#/alerts"}`);
      if (!saved.verifier || saved.state !== params.get("state"))
        return "Sign-in was interrupted: try again.";
      const response = await fetch(`${domain}/oauth2/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          client_id: cognito.clientId,
          code,
          redirect_uri: redirectUri,
          code_verifier: saved.verifier,
        }),
      });
      if (!response.ok) return `Sign-in failed (${response.status}).`;
      const tokens = await response.json();
      // The API's authorizer reads the tenant from the id token's custom claim.
      return auth.useToken(tokens.id_token);
    },
  };
  return auth;
}

// `#token=…&profile=…` (what `tripwire local token` can print as a link): taken, then removed
// from the address bar and the history so it is not left lying around.
export function takeFragment() {
  const hash = location.hash.replace(/^#\/?/, "");
  if (!/(^|&)token=/.test(hash)) return {};
  const params = new URLSearchParams(hash);
  history.replaceState(null, "", `${location.pathname}${location.search}#/alerts`);
  return { token: params.get("token") || "", profile: params.get("profile") || "" };
}
