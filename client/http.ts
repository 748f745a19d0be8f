/** The two HTTP calls the SDK makes: ICE servers and (with an API key) a signaling token. */
import { FerryError } from './errors.js';
import type { FetchLike, IceServer } from './types.js';

export interface IceServersResult {
  readonly iceServers: IceServer[];
  /** ms since the epoch; Infinity when the server did not say. */
  readonly expiresAt: number;
}

export interface SignalTokenResult {
  readonly token: string;
  readonly expiresAt: number;
}

/** `expires_at` as ms since the epoch, whether the server sent seconds, ms or an ISO date. */
export function parseExpiry(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v < 1e12 ? v * 1000 : v;
  if (typeof v === 'string') {
    if (/^\d+(\.\d+)?$/.test(v)) return parseExpiry(Number(v));
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t;
  }
  return Infinity;
}

async function post(fetchFn: FetchLike, url: string, bearer: string, body: unknown): Promise<Record<string, unknown>> {
  let res: Awaited<ReturnType<FetchLike>>;
  try {
    res = await fetchFn(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new FerryError('network', `POST ${url} failed: ${(err as Error)?.message ?? String(err)}`);
  }
  if (!res.ok) {
    let detail = '';
    try { detail = (await res.text()).slice(0, 300); } catch { /* no body */ }
    const code = res.status === 401 ? 'unauthorized' : res.status === 403 ? 'forbidden' : res.status === 429 ? 'rate_limited' : 'http_error';
    throw new FerryError(code, `POST ${url}: HTTP ${res.status}${detail ? `: ${detail}` : ''}`, res.status);
  }
  const json = await res.json().catch(() => null);
  if (typeof json !== 'object' || json === null) throw new FerryError('bad_response', `POST ${url}: the response is not a JSON object`);
  return json as Record<string, unknown>;
}

function isIceServer(v: unknown): v is IceServer {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  const urlsOk = typeof s.urls === 'string' || (Array.isArray(s.urls) && s.urls.every((u) => typeof u === 'string'));
  return urlsOk && (s.username === undefined || typeof s.username === 'string')
    && (s.credential === undefined || typeof s.credential === 'string');
}

/** `POST {base}/v1/ice-servers` with an API key or a signaling token. */
export async function fetchIceServers(fetchFn: FetchLike, base: string, bearer: string, ttl?: number | string): Promise<IceServersResult> {
  const url = `${base}/v1/ice-servers`;
  const json = await post(fetchFn, url, bearer, ttl === undefined ? {} : { ttl });
  const list = json.iceServers ?? json.ice_servers;
  if (!Array.isArray(list) || !list.every(isIceServer)) {
    throw new FerryError('bad_response', `POST ${url}: no valid iceServers list in the response`);
  }
  return { iceServers: list, expiresAt: parseExpiry(json.expires_at) };
}

/** `POST {base}/v1/signal-tokens` with an API key: a short-lived `st_` token for the WebSocket. */
export async function mintSignalToken(fetchFn: FetchLike, base: string, apiKey: string): Promise<SignalTokenResult> {
  const url = `${base}/v1/signal-tokens`;
  const json = await post(fetchFn, url, apiKey, {});
  if (typeof json.token !== 'string' || json.token === '') throw new FerryError('bad_response', `POST ${url}: no token in the response`);
  return { token: json.token, expiresAt: parseExpiry(json.expires_at) };
}
