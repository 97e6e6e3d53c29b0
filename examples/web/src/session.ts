// The signed-in session: the access token lives in memory only; the refresh token is kept in
// localStorage so a reload stays signed in (the API has no cookie flow; see the README's notes on
// what that costs against XSS, which the CSP served with the shop limits).
//
// Refresh is silent and single-flight: a refresh token is rotated on every use and reusing a
// rotated one revokes the whole session, so two refreshes racing would sign the user out.
import { useSyncExternalStore } from "react";

export type Tokens = { accessToken: string; refreshToken: string; expiresAt: string };

const REFRESH_KEY = "tessera.refreshToken";
const DEVICE_KEY = "tessera.deviceToken";
/** Refresh this long before the access token expires, so requests never carry a stale one. */
const EARLY_MS = 60_000;

type State = { accessToken: string | null; expiresAt: number; version: number };

let state: State = { accessToken: null, expiresAt: 0, version: 0 };
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<string | null> | null = null;
const tokenListeners = new Set<() => void>();

function emit(next: Partial<State>) {
  state = { ...state, ...next, version: state.version + 1 };
  listeners.forEach((l) => l());
}

export function accessToken(): string | null {
  return state.accessToken;
}

export function hasRefreshToken(): boolean {
  return localStorage.getItem(REFRESH_KEY) !== null;
}

/** The device token the auth service gave at an earlier sign-in: it keeps this browser's own
 * lockout budget, so an attacker guessing the password elsewhere does not lock us out. */
export function deviceToken(): string | undefined {
  return localStorage.getItem(DEVICE_KEY) ?? undefined;
}

export function rememberDevice(token: string | null | undefined) {
  if (token) localStorage.setItem(DEVICE_KEY, token);
}

/** Called whenever the access token changes (the websocket reconnects with the new one). */
export function onTokenChange(listener: () => void): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

export function signIn(tokens: Tokens) {
  localStorage.setItem(REFRESH_KEY, tokens.refreshToken);
  const expiresAt = Date.parse(tokens.expiresAt);
  emit({ accessToken: tokens.accessToken, expiresAt });
  schedule(expiresAt);
  tokenListeners.forEach((l) => l());
}

export function signOut() {
  localStorage.removeItem(REFRESH_KEY);
  clearTimeout(timer);
  emit({ accessToken: null, expiresAt: 0 });
  tokenListeners.forEach((l) => l());
}

function schedule(expiresAt: number) {
  clearTimeout(timer);
  // A minute early, or at four fifths of a short lifetime (a deployment may issue tokens for
  // less than a minute), never in a busy loop.
  const left = expiresAt - Date.now();
  const wait = Math.max(Math.min(left - EARLY_MS, left * 0.8), 1_000);
  timer = setTimeout(() => void refresh(), wait);
}

const REFRESH = `mutation Refresh($input: RefreshTokenInput!) {
  refreshToken(input: $input) { accessToken refreshToken expiresAt }
}`;

/** Trades the stored refresh token for new tokens. Concurrent callers share one call. Answers
 * the new access token, or null when the session is over (revoked, expired, reused). */
export function refresh(): Promise<string | null> {
  if (inFlight) return inFlight;
  const stored = localStorage.getItem(REFRESH_KEY);
  if (!stored) return Promise.resolve(null);
  inFlight = (async () => {
    try {
      // Plain fetch, not Apollo: this runs inside Apollo's own retry of an UNAUTHENTICATED answer.
      const res = await fetch(`/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
        body: JSON.stringify({ query: REFRESH, operationName: "Refresh", variables: { input: { refreshToken: stored } } }),
      });
      const body = await res.json();
      const tokens: Tokens | undefined = body?.data?.refreshToken;
      if (tokens) {
        signIn(tokens);
        return tokens.accessToken;
      }
      const code = body?.errors?.[0]?.extensions?.code;
      // Only a refusal of the token ends the session; a rate limit or an outage does not.
      if (code === "UNAUTHENTICATED" || code === "BAD_USER_INPUT" || code === "FORBIDDEN") signOut();
      return null;
    } catch {
      return null;
    } finally {
      inFlight = null;
    }
  })();
  return inFlight;
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The session as React sees it: re-renders on sign-in, refresh and sign-out. */
export function useSession(): State {
  return useSyncExternalStore(subscribe, () => state);
}

export function sessionSnapshot(): State {
  return state;
}
