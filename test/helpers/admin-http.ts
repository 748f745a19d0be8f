// Requests to Ferry's HTTP API (signaling/admin) from tests: a bearer token when given, a JSON body
// when given. Callers make their own assertions on the answer.

export interface ApiRequestOptions {
  /** Abort the request (and the reading of its body) after this long; default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * `method base+path` with `authorization: Bearer <token>` (if any) and `body` as JSON (if any),
 * aborted after `timeoutMs`.
 */
export function apiRequest(base: string, method: string, path: string, token?: string, body?: unknown, opts: ApiRequestOptions = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
  });
}

/** apiRequest() with the answer's body parsed as JSON. */
export async function apiJson<T = Record<string, any>>(
  base: string, method: string, path: string, token?: string, body?: unknown, opts: ApiRequestOptions = {},
): Promise<{ status: number; json: T }> {
  const res = await apiRequest(base, method, path, token, body, opts);
  return { status: res.status, json: (await res.json()) as T };
}
