// The HTTPS API with the signed-in user's token. Errors carry the status and a readable text.

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
    // API Gateway's own 404 (no such route) reads {"message": "Not Found"}; the functions'
    // 404s name what was not found ("alert not found").
    this.routeMissing = status === 404 && body?.message === "Not Found";
  }
}

function describe(status, body) {
  const detail = Array.isArray(body?.detail) ? body.detail[0] : null;
  if (detail) {
    const field = Array.isArray(detail.loc) ? detail.loc[detail.loc.length - 1] : "input";
    return `${field}: ${detail.msg}`;
  }
  if (body && typeof body.message === "string") return body.message;
  return `HTTP ${status}`;
}

function queryString(query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") params.set(name, value);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function createApi(baseUrl, auth) {
  const root = (baseUrl || "").replace(/\/+$/, "");

  async function call(method, path, { query, body } = {}) {
    const headers = { Authorization: `Bearer ${auth.token()}` };
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(root + path + queryString(query), init);
    } catch (error) {
      throw new ApiError(0, `cannot reach the API (${error.message})`, null);
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { message: text.slice(0, 200) };
    }
    if (!response.ok) {
      if (response.status === 401) auth.expired();
      throw new ApiError(response.status, describe(response.status, data), data);
    }
    return data;
  }

  const enc = encodeURIComponent;
  return {
    active: (query) => call("GET", "/alerts/active", { query }),
    alert: (id) => call("GET", `/alerts/${enc(id)}`),
    acknowledge: (id) => call("PATCH", `/alerts/${enc(id)}/acknowledge`),
    resolve: (id, notes) => call("PATCH", `/alerts/${enc(id)}/resolve`, { body: { notes } }),
    feedback: (id, isAnomaly, note) =>
      call("POST", `/alerts/${enc(id)}/feedback`, { body: { is_anomaly: isAnomaly, note } }),
    statistics: (query) => call("GET", "/statistics", { query }),
    series: (id, query) => call("GET", `/entities/${enc(id)}/series`, { query }),
    entity: (id, query) => call("GET", `/entities/${enc(id)}/profile`, { query }),
    runs: (query) => call("GET", "/runs", { query }),
    run: (id) => call("GET", `/runs/${enc(id)}`),
    models: () => call("GET", "/models"),
  };
}
