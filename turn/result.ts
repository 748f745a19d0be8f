/**
 * The outcome of a request-path step that yields a value or refuses with a STUN error code
 * (turn/codec/error-codes.ts): `{ ok: true, ...value }` or `{ ok: false, code }`. The value's
 * fields sit beside `ok`, so a caller narrows on `ok` and reads them directly; `C` lists the codes
 * the step may refuse with, so the compiler knows which answers a handler can give.
 *
 * One object per call: for request handling, never for the per-packet path (turn/data-path.ts).
 *
 * Steps that already hold the whole answer when they refuse (authenticate, allocation-request:
 * a 401 with its nonce and realm, or no answer at all when rate limited) return
 * `{ ok: false, response }` instead: the handler sends that response as it is.
 */
export type Result<T extends object, C extends number = number> =
  | ({ readonly ok: true } & T)
  | { readonly ok: false; readonly code: C };
