// People's sessions: log in with email and password (POST /api/v1/auth/login), keep the
// access token in memory and the refresh token in this tab's sessionStorage (a reload stays
// signed in; closing the tab ends it), refresh a minute before the access token expires.

export interface Session {
  accessToken: string;
  expiresAt: number; // ms since epoch
  refreshToken: string;
  mustChangePassword: boolean;
}

interface Tokens {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  must_change_password: boolean;
}

const REFRESH_KEY = "agenttrace.refresh";
type Listener = (session: Session | null) => void;

let current: Session | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<Listener>();

export class AuthError extends Error {}

async function post(path: string, body: unknown, token?: string): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  return fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
}

async function errorOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: string };
    return body.error ?? `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

function adopt(tokens: Tokens): Session {
  const session: Session = {
    accessToken: tokens.access_token,
    expiresAt: Date.now() + tokens.expires_in * 1000,
    refreshToken: tokens.refresh_token,
    mustChangePassword: tokens.must_change_password,
  };
  current = session;
  sessionStorage.setItem(REFRESH_KEY, session.refreshToken);
  clearTimeout(timer);
  const lead = Math.max(5_000, tokens.expires_in * 1000 - 60_000);
  timer = setTimeout(() => void refresh().catch(() => signOutLocally()), lead);
  listeners.forEach((listener) => listener(session));
  return session;
}

function signOutLocally(): void {
  current = null;
  clearTimeout(timer);
  sessionStorage.removeItem(REFRESH_KEY);
  listeners.forEach((listener) => listener(null));
}

export function session(): Session | null {
  return current;
}

export function accessToken(): string | null {
  return current?.accessToken ?? null;
}

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export async function login(email: string, password: string): Promise<Session> {
  const response = await post("/api/v1/auth/login", { email, password });
  if (!response.ok) throw new AuthError(await errorOf(response));
  return adopt((await response.json()) as Tokens);
}

let refreshing: Promise<Session> | null = null;

/** A new pair for the stored refresh token (one request at a time). */
export function refresh(): Promise<Session> {
  const token = current?.refreshToken ?? sessionStorage.getItem(REFRESH_KEY);
  if (!token) return Promise.reject(new AuthError("not signed in"));
  refreshing ??= (async () => {
    try {
      const response = await post("/api/v1/auth/refresh", { refresh_token: token });
      if (!response.ok) {
        signOutLocally();
        throw new AuthError(await errorOf(response));
      }
      return adopt((await response.json()) as Tokens);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** On page load: resume the tab's session if it has one. */
export async function resume(): Promise<Session | null> {
  if (!sessionStorage.getItem(REFRESH_KEY)) return null;
  try {
    return await refresh();
  } catch {
    return null;
  }
}

export async function logout(): Promise<void> {
  const token = current?.refreshToken ?? sessionStorage.getItem(REFRESH_KEY);
  signOutLocally();
  if (token) await post("/api/v1/auth/logout", { refresh_token: token }).catch(() => undefined);
}

export async function changePassword(currentPassword: string, newPassword: string): Promise<Session> {
  const response = await post(
    "/api/v1/auth/password",
    { current_password: currentPassword, new_password: newPassword },
    current?.accessToken,
  );
  if (!response.ok) throw new AuthError(await errorOf(response));
  return adopt((await response.json()) as Tokens);
}
