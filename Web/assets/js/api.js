// The management API client.
//
// Authentication is the HttpOnly session cookie the server sets at login: this code never sees
// the session token. State-changing requests carry the CSRF token in `X-Pomona-CSRF`, read from
// the (readable, session-bound) CSRF cookie; the server refuses cookie-authenticated POST, PATCH
// and DELETE without it. A 401 asks `onUnauthenticated` to get the user logged in again (the login
// form over the current page, which keeps what was typed) and then retries once.

export const API_BASE = '/api/latest/fleet';
export const CSRF_COOKIE = '__Host-pomona_csrf';
export const CSRF_HEADER = 'X-Pomona-CSRF';
/** Login and setup with this header answer with HttpOnly cookies instead of a token in the body. */
export const SESSION_MODE = { 'X-Pomona-Session': 'cookie' };

/** An API failure in Fleet's envelope: `message` and `errors: [{name, reason}]` naming fields. */
export class ApiError extends Error {
  constructor(status, message, errors = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.errors = errors;
  }

  /** The reason given for field `name`, or undefined. */
  field(name) {
    return this.errors.find((e) => e.name === name)?.reason;
  }

  /** Errors that name no field of a form (`base`, or fields not in `known`). */
  general(known = []) {
    return this.errors.filter((e) => e.name === 'base' || !known.includes(e.name));
  }

  /** One line for a banner: "Validation Failed: email: is required". */
  describe() {
    if (this.errors.length === 0) return this.message;
    const parts = this.errors.map((e) => (e.name === 'base' ? e.reason : `${e.name}: ${e.reason}`));
    return parts.join('; ');
  }
}

/** Value of cookie `name` in a `document.cookie` string, or ''. */
export function readCookie(cookieString, name) {
  for (const part of String(cookieString ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return '';
}

/** `/hosts` + {page: 0, status: 'online', query: ''} → `/hosts?page=0&status=online` (empty values dropped). */
export function withQuery(path, query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, String(v)));
    else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Turns a non-2xx response into an ApiError, keeping Fleet's field errors. */
export async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const errors = Array.isArray(body?.errors)
    ? body.errors.filter((e) => e && typeof e.name === 'string').map((e) => ({ name: e.name, reason: String(e.reason ?? '') }))
    : [];
  const message = typeof body?.message === 'string' ? body.message : `${response.status} ${response.statusText || 'error'}`;
  const error = new ApiError(response.status, message, errors);
  const retry = response.headers?.get?.('Retry-After');
  if (retry) error.retryAfter = Number(retry);
  return error;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * @param {{fetchImpl?: typeof fetch, cookies?: () => string, onUnauthenticated?: (error: ApiError) => Promise<void>}} options
 */
export function createApi({ fetchImpl = (...a) => fetch(...a), cookies = () => document.cookie, onUnauthenticated = null } = {}) {
  async function send(method, url, body, signal, extraHeaders = {}) {
    const headers = { Accept: 'application/json', ...extraHeaders };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (!SAFE_METHODS.has(method)) {
      const csrf = readCookie(cookies(), CSRF_COOKIE);
      if (csrf) headers[CSRF_HEADER] = csrf;
    }
    let response;
    try {
      response = await fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
        signal,
      });
    } catch (cause) {
      if (cause?.name === 'AbortError') throw cause;
      throw new ApiError(0, 'Cannot reach the Pomona server', [{ name: 'base', reason: 'the server did not answer; is it running?' }]);
    }
    if (response.ok) {
      if (response.status === 204) return {};
      const text = await response.text();
      return text ? JSON.parse(text) : {};
    }
    throw await errorFrom(response);
  }

  /**
   * One request. `path` is below the API base unless it starts with `/api/`.
   * @param {{query?: object, body?: any, signal?: AbortSignal, retryOn401?: boolean}} [options]
   */
  async function request(method, path, { query, body, signal, headers = {}, retryOn401 = true } = {}) {
    const url = withQuery(path.startsWith('/api/') ? path : API_BASE + path, query);
    try {
      return await send(method, url, body, signal, headers);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401 && retryOn401 && onUnauthenticated) {
        await onUnauthenticated(error);
        return send(method, url, body, signal, headers);
      }
      throw error;
    }
  }

  return {
    request,
    get: (path, query, options = {}) => request('GET', path, { ...options, query }),
    post: (path, body, options = {}) => request('POST', path, { ...options, body: body ?? {} }),
    patch: (path, body, options = {}) => request('PATCH', path, { ...options, body }),
    del: (path, options = {}) => request('DELETE', path, options),
    /** `GET /api/v1/setup`: `{require_setup}` (public). */
    setupStatus: () => request('GET', '/api/v1/setup', { retryOn401: false }),
    setup: (admin) => request('POST', '/api/v1/setup', { body: { admin }, headers: SESSION_MODE, retryOn401: false }),
    login: (email, password) => request('POST', '/login', { body: { email, password }, headers: SESSION_MODE, retryOn401: false }),
    logout: () => request('POST', '/logout', { body: {}, retryOn401: false }),
    me: () => request('GET', '/me', { retryOn401: false }),
  };
}
