/**
 * The client SDK over HTTP, for pages that load it from Ferry instead of bundling it from npm:
 *
 *   GET /sdk/ferry.js       the SDK as one ES module (dist/sdk, built by scripts/build-sdk.js)
 *   GET /sdk/ferry.js.map   its source map (TypeScript sources inlined)
 *   GET /sdk/<module>.js    the compiled SDK modules one by one (dist/client; /sdk/index.js is
 *                           their entry), for pages written before the bundle
 *
 * Every file is answered with its type, `Cache-Control: no-cache` and a strong ETag: the URLs do
 * not change with the version, so a browser revalidates each time and gets a 304 while the file
 * is unchanged. Anything else under /sdk/ is a JSON 404; names are matched against a fixed list
 * and one flat pattern, never joined into a path as given.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './errors.js';
import { etagMatches, staticFiles } from './static-files.js';

/** Compiled files, relative to this module's compiled location (dist/signaling/sdk.js). */
const BUNDLE_DIR = new URL('../sdk/', import.meta.url);
const MODULE_DIR = new URL('../client/', import.meta.url);

const JS = 'text/javascript; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/** The bundle's files and their types. */
const BUNDLE_FILES: ReadonlyMap<string, string> = new Map([
  ['ferry.js', JS],
  ['ferry.js.map', JSON_TYPE],
]);
/** One flat directory of plain module names: no separators, no dots but the extension. */
const MODULE_FILE = /^[a-z0-9][a-z0-9-]{0,63}\.js$/;

/** The SDK file named `file`, or undefined when there is no such file (or it is not built). */
export function sdkFileUrl(file: string): { readonly url: URL; readonly type: string } | undefined {
  const bundled = BUNDLE_FILES.get(file);
  if (bundled !== undefined) return { url: new URL(file, BUNDLE_DIR), type: bundled };
  if (MODULE_FILE.test(file)) return { url: new URL(file, MODULE_DIR), type: JS };
  return undefined;
}

export { etagMatches };

export function registerSdk(app: FastifyInstance): void {
  const load = staticFiles();

  const notFound = (reply: FastifyReply, message: string) => reply.code(404).send(errorBody('not_found', message));

  app.get<{ Params: { file: string } }>('/sdk/:file', { schema: { hide: true } }, async (request: FastifyRequest<{ Params: { file: string } }>, reply) => {
    const target = sdkFileUrl(request.params.file);
    if (target === undefined) return notFound(reply, 'no such SDK file (the SDK is /sdk/ferry.js)');
    const file = await load(target.url);
    if (file === undefined) return notFound(reply, 'no such SDK file (is the project built?)');
    reply
      .header('cache-control', 'no-cache')
      .header('etag', file.etag)
      .header('x-content-type-options', 'nosniff');
    if (etagMatches(request.headers['if-none-match'], file.etag)) return reply.code(304).send();
    return reply.type(target.type).send(file.body);
  });
}
