// The public API with the member's bearer token, as any third-party front end would call it.
// Access tokens last minutes; a 401 is answered by exchanging the refresh token once (rotation) and retrying.

const SESSION_KEY = 'academy.session';
const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
    this.handled = false;
  }
}

/** Thrown when the member must sign in (again); the app takes them to the log-in with the page kept. */
export class SignInNeeded extends ApiError {
  constructor(expired) {
    super(401, { title: 'sign in needed' });
    this.expired = expired;
    this.handled = true;
    window.dispatchEvent(new CustomEvent('academy:signin-needed', { detail: { expired } }));
  }
}

// The session lives as long as the tab: a refresh token left behind in localStorage would outlive the visit.
export function storedSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
  } catch {
    return null;
  }
}

function storeSession(session) {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
  window.dispatchEvent(new CustomEvent('academy:session'));
}

export function signedIn() {
  return Boolean(storedSession()?.access_token);
}

export function currentMember() {
  return storedSession()?.member || null;
}

async function send(path, { method = 'GET', body, token, headers = {}, accept = 'application/json' } = {}) {
  const init = { method, headers: { Accept: accept, ...headers }, credentials: 'omit', cache: 'no-store' };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  try {
    return await fetch(BASE + path, init);
  } catch {
    throw new ApiError(0, null);
  }
}

async function failure(response) {
  let problem = null;
  if ((response.headers.get('Content-Type') || '').includes('json')) {
    problem = await response.json().catch(() => null);
  }
  return new ApiError(response.status, problem, response.headers.get('Retry-After'));
}

async function tokens(path, body) {
  const response = await send(path, { method: 'POST', body });
  if (!response.ok) throw await failure(response);
  return response.json();
}

let refreshing = null;

/** One exchange at a time: two requests that meet an expired token share it, since a refresh token works once. */
function refresh() {
  const session = storedSession();
  if (!session?.refresh_token) return Promise.reject(new SignInNeeded(false));
  if (!refreshing) {
    refreshing = tokens('/auth/refresh', { refresh_token: session.refresh_token })
      .then((pair) => storeSession({ ...session, ...pair }))
      .catch((error) => {
        if (error.status === 401 || error.status === 422) {
          storeSession(null);
          throw new SignInNeeded(true);
        }
        throw error;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

/**
 * Call the API. `auth: true` means the call needs a member; a stored token goes along on every call anyway
 * (a provider sees their drafts), and an expired one is renewed once before giving up.
 */
export async function api(path, { auth = false, as = 'json', ...options } = {}) {
  const session = storedSession();
  if (auth && !session) throw new SignInNeeded(false);
  let response = await send(path, { ...options, token: session?.access_token });
  if (response.status === 401 && session) {
    await refresh();
    response = await send(path, { ...options, token: storedSession()?.access_token });
    if (response.status === 401) {
      storeSession(null);
      throw new SignInNeeded(true);
    }
  }
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return null;
  if (as === 'blob') return response.blob();
  return response.json();
}

export async function signIn(email, password) {
  const pair = await tokens('/auth/token', { email, password });
  storeSession(pair);
  const member = await api('/members/me', { auth: true });
  storeSession({ ...storedSession(), member });
  return member;
}

export async function signOut() {
  const session = storedSession();
  storeSession(null);
  if (session?.refresh_token) {
    await tokens('/auth/logout', { refresh_token: session.refresh_token }).catch(() => null);
  }
}

/** A new token pair for this session (a password change ends every other session and answers one). */
export function replaceTokens(pair) {
  storeSession({ ...storedSession(), ...pair });
}

/** After the account is gone: nothing of it is kept in the tab. */
export function forgetSession() {
  storeSession(null);
}

export function rememberMember(member) {
  const session = storedSession();
  if (session) storeSession({ ...session, member });
}

/** A key for a POST that creates seats or money: the same key on a retry of the same intent. */
export function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

let openapi = null;

/** The public API's own description, for the values a filter may take (they change as the API grows). */
export function apiDescription() {
  openapi = openapi || fetch(`${BASE}/openapi.json`, { credentials: 'omit' })
    .then((response) => (response.ok ? response.json() : {}))
    .catch(() => ({}));
  return openapi;
}

export async function parameterValues(path, name) {
  const spec = await apiDescription();
  const parameter = (spec.paths?.[path]?.get?.parameters || []).find((item) => item.name === name);
  return parameter?.schema?.enum || parameter?.schema?.items?.enum || null;
}
