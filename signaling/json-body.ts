/**
 * JSON bodies as usual, but an empty body with a JSON content type reads as "no body", as
 * browsers send it for a bodyless POST with `content-type: application/json`. Installed by the
 * signaling plugin for its routes and by buildSignalingApp for the rest (its JSON 404), so such a
 * request to an unknown path is a 404 and not a 400.
 */
import type { FastifyInstance } from 'fastify';

export function acceptEmptyJson(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.length === 0) done(null, undefined);
    else parseJson(request, text, done);
  });
}
