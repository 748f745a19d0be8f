/**
 * The operator console: GET /console (one page) and GET /console/<asset> (its script and style
 * sheet), built from console/ by scripts/build-console.js into dist/console-app/. The page is
 * static and public; everything it shows comes from the admin API, called with the admin token the
 * operator types in (kept in the tab's sessionStorage, sent only as `Authorization: Bearer`).
 *
 * The page runs only its own script, loads only its own style sheet, talks only to this origin and
 * may not be framed (clickjacking an admin page); it sends no Referer.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { errorBody } from './errors.js';
import { etagMatches, staticFiles } from './static-files.js';

/** Built files, relative to this module's compiled location (dist/signaling/console.js). */
const APP_DIR = new URL('../console-app/', import.meta.url);

/** The console's files and their types; nothing else is served. */
const ASSETS: ReadonlyMap<string, string> = new Map([
  ['console.js', 'text/javascript; charset=utf-8'],
  ['console.css', 'text/css; charset=utf-8'],
]);

export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function registerConsole(app: FastifyInstance): void {
  const load = staticFiles();

  async function send(reply: FastifyReply, ifNoneMatch: string | undefined, file: string, type: string): Promise<FastifyReply> {
    const found = await load(new URL(file, APP_DIR));
    if (found === undefined) return reply.code(404).send(errorBody('not_found', 'the console is not built (npm run build)'));
    reply
      .header('cache-control', 'no-cache')
      .header('etag', found.etag)
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .header('content-security-policy', CONSOLE_CSP);
    if (etagMatches(ifNoneMatch, found.etag)) return reply.code(304).send();
    return reply.type(type).send(found.body);
  }

  app.get('/console', { schema: { hide: true } }, async (request, reply) =>
    send(reply, request.headers['if-none-match'], 'index.html', 'text/html; charset=utf-8'));
  app.get('/console/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console', 301));
  app.get<{ Params: { file: string } }>('/console/:file', { schema: { hide: true } }, async (request, reply) => {
    const type = ASSETS.get(request.params.file);
    if (type === undefined) return reply.code(404).send(errorBody('not_found', 'no such console file'));
    return send(reply, request.headers['if-none-match'], request.params.file, type);
  });
}
