// The console's calls to its JSON API: the bearer token from sessionStorage on every call, errors as
// {code, message} (the gRPC status of the call behind it) thrown as ApiError.

const TOKEN_KEY = "aimass.token";

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }
export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(code, message, status) { super(message); this.code = code; this.status = status; }
}

const PLAIN = {
  UNAUTHENTICATED: "The token was not accepted: log in again with a valid token.",
  PERMISSION_DENIED: "Your token may not do this on this model (it needs a higher role).",
  NOT_FOUND: "It does not exist, or your token may not see it.",
  INVALID_ARGUMENT: "The request was not valid.",
  ALREADY_EXISTS: "It exists already.",
  FAILED_PRECONDITION: "Not possible in the current state.",
  RESOURCE_EXHAUSTED: "Over a limit, or the server is busy: try again shortly.",
  UNAVAILABLE: "The server is not reachable or not ready: try again shortly.",
  DATA_LOSS: "The bytes received did not match their checksum; nothing was stored.",
  DEADLINE_EXCEEDED: "The server took too long to answer.",
  NETWORK: "The console's server could not be reached.",
};

/** "NOT_FOUND: model 'x' not found — It does not exist, …" */
export function describe(error) {
  if (error instanceof ApiError) {
    const plain = PLAIN[error.code] || "The call failed.";
    return { code: error.code, message: error.message, plain };
  }
  return { code: "ERROR", message: String(error && error.message || error), plain: "" };
}

async function errorFrom(response) {
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON */ }
  if (body && body.code) return new ApiError(body.code, body.message || "", response.status);
  return new ApiError("HTTP_" + response.status, response.statusText, response.status);
}

/** Calls the API; resolves to the parsed JSON, rejects with ApiError. */
export async function call(method, path, body) {
  const headers = { "Authorization": "Bearer " + token() };
  const init = { method, headers };
  if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  let response;
  try { response = await fetch(path, init); } catch (e) { throw new ApiError("NETWORK", String(e), 0); }
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body || {});
export const put = (path, body) => call("PUT", path, body || {});
export const del = (path) => call("DELETE", path);
export const enc = encodeURIComponent;

/**
 * Uploads `file` as the model's next version with XMLHttpRequest (fetch reports no upload progress).
 * `onProgress(sentBytes, totalBytes)`; resolves to the new version.
 */
export function upload(model, file, sha256, query, onProgress) {
  const params = new URLSearchParams(query);
  params.set("sha256", sha256);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/models/${enc(model)}/versions?${params}`);
    xhr.setRequestHeader("Authorization", "Bearer " + token());
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300 && body) resolve(body);
      else if (body && body.code) reject(new ApiError(body.code, body.message || "", xhr.status));
      else reject(new ApiError("HTTP_" + xhr.status, xhr.statusText, xhr.status));
    };
    xhr.onerror = () => reject(new ApiError("NETWORK", "the upload was interrupted", 0));
    xhr.send(file);
  });
}

/** SHA-256 of a File as 64 lowercase hex characters (SubtleCrypto: a secure context, e.g. 127.0.0.1). */
export async function sha256Hex(file) {
  if (!(globalThis.crypto && crypto.subtle)) {
    throw new ApiError("FAILED_PRECONDITION",
      "this page is not a secure context, so the browser offers no SHA-256: open it over https or on 127.0.0.1", 0);
  }
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
