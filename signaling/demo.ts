/**
 * The demo: GET /demo (a page that calls between two tabs and shows what happened) and GET
 * /demo/<module>.js (its browser modules). The page loads the SDK from /sdk/ (signaling/sdk.ts).
 *
 * The page asks the server for nothing secret: it takes a signaling token (`st_…`, minted by the
 * application's backend with `POST /v1/signal-tokens`, or printed by `ferry start` in the
 * development setup) and the peer ids from its URL fragment, e.g.
 * /demo#token=st_…&me=alice&peer=bob&relay=1&call=1.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DEMO_HTML } from './demo/html.js';
import { errorBody } from './errors.js';

export { DEMO_HTML };

/** Compiled files, relative to this module's compiled location (dist/signaling/demo.js). */
const PAGE_DIR = new URL('./demo/', import.meta.url);
/** The page's browser modules (signaling/demo/*.ts but html.ts, which is the server's). */
const PAGE_MODULES: ReadonlySet<string> = new Set(['page.js', 'hints.js', 'stats.js']);

const JS = 'text/javascript; charset=utf-8';
/**
 * The page runs only its own modules and the SDK from this origin, talks only to this origin (the
 * API and the WebSocket), and may not be framed: defence in depth for a page that takes a token
 * from its URL. Its one <style> element is inline.
 */
export const DEMO_CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

async function sendFile(reply: FastifyReply, url: URL): Promise<FastifyReply> {
  let body: Buffer;
  try {
    body = await readFile(url);
  } catch {
    return reply.code(404).send(errorBody('not_found', 'not found (is the project built?)'));
  }
  return reply.type(JS).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(body);
}

export function registerDemo(app: FastifyInstance): void {
  app.get('/demo', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', DEMO_CSP)
      .send(DEMO_HTML));

  app.get<{ Params: { file: string } }>('/demo/:file', { schema: { hide: true } }, async (request, reply) => {
    const { file } = request.params;
    if (!PAGE_MODULES.has(file)) return reply.code(404).send(errorBody('not_found', 'no such demo file'));
    return sendFile(reply, new URL(file, PAGE_DIR));
  });
}
