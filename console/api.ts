/**
 * The admin API as the console calls it: same origin, `Authorization: Bearer <admin token>`, JSON
 * in and out, and every failure as an ApiError carrying the API's own code and message (the API
 * answers `{"error": {"code", "message"}}`), so pages show what the server said. A 401 means the
 * token is no longer accepted (changed by a reload, or wrong): `onUnauthorized` signs out.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** How long one request may take, its answer read, before the console gives up on it. */
export const REQUEST_TIMEOUT_MS = 15_000;
/** The same for a text answer (a CSV export of many rows). */
export const TEXT_TIMEOUT_MS = 120_000;

export interface ApiOptions {
  readonly token: () => string | null;
  readonly onUnauthorized: (error: ApiError) => void;
}

export class Api {
  readonly #o: ApiOptions;

  constructor(o: ApiOptions) {
    this.#o = o;
  }

  get<T>(path: string): Promise<T> {
    return this.#json<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.#json<T>('POST', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.#json<T>('PATCH', path, body);
  }

  /** DELETE; the body when the API answers one (undefined for 204). */
  delete<T = undefined>(path: string): Promise<T> {
    return this.#json<T>('DELETE', path);
  }

  /** A text answer (the CSV export). */
  async text(path: string): Promise<string> {
    const res = await this.#fetch('GET', path, undefined, this.#o.token(), true, TEXT_TIMEOUT_MS);
    return read(() => res.text());
  }

  /**
   * Checks a token without keeping it: resolves when the admin API accepts it (a JSON answer of
   * the API, not any page a proxy in between may answer with).
   */
  async check(token: string): Promise<void> {
    const res = await this.#fetch('GET', '/v1/overview', undefined, token, false);
    await json(res);
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.#fetch(method, path, body);
    if (res.status === 204) return undefined as T;
    return (await json(res)) as T;
  }

  async #fetch(method: string, path: string, body?: unknown, token = this.#o.token(), signOut = true, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json, text/csv' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers,
        credentials: 'omit',
        cache: 'no-store',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
      throw new ApiError(0, timedOut ? 'timeout' : 'network', timedOut ? 'Ferry did not answer in time' : 'Ferry cannot be reached');
    }
    if (res.ok) return res;
    const error = await errorOf(res);
    // Only a refusal of the token in use signs out: a late answer to a request sent with an older
    // token (or none, after signing out) must not sign out the operator who has signed in again.
    if (res.status === 401 && signOut && token !== null && token === this.#o.token()) this.#o.onUnauthorized(error);
    throw error;
  }
}

/** Reads an answer's body; a timeout or a broken connection while reading is an ApiError too. */
async function read<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
    throw new ApiError(0, timedOut ? 'timeout' : 'network', timedOut ? 'Ferry did not answer in time' : 'the answer from Ferry was cut off');
  }
}

/** A 2xx answer's JSON; anything else (a proxy's HTML page) is an ApiError, not a SyntaxError. */
async function json(res: Response): Promise<unknown> {
  const type = res.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(res.status, 'not_json', `the answer is not Ferry's (${type === '' ? 'no content type' : type}): is a proxy in the way?`);
  }
  return read(() => res.json());
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // Not JSON (a proxy's page): the status says it.
  }
  return new ApiError(res.status, code, message);
}
