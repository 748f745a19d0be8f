/**
 * The demo: GET /demo (a small chat page) and GET /demo/page.js (its script). The page loads the
 * SDK from /sdk/ (signaling/sdk.ts).
 *
 * The page asks the server for nothing secret: it takes a signaling token (`st_…`, minted by the
 * application's backend with `POST /v1/signal-tokens`) and the peer ids from its URL hash, e.g.
 * /demo#token=st_…&me=alice&peer=bob&relay=1&call=1.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { errorBody } from './errors.js';

/** Compiled files, relative to this module's compiled location (dist/signaling/demo.js). */
const PAGE_SCRIPT = new URL('./demo/page.js', import.meta.url);

const JS = 'text/javascript; charset=utf-8';

export const DEMO_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Ferry demo</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }
  fieldset { border: 1px solid #ccc; border-radius: 6px; margin-bottom: 1rem; }
  label { display: block; margin: .3rem 0; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; }
  #log { list-style: none; padding: .5rem; min-height: 8rem; border: 1px solid #ccc; border-radius: 6px; }
  #log .me { color: #036; } #log .them { color: #630; }
  .row { display: flex; gap: .5rem; } .row input { flex: 1; }
  #error { color: #a00; }
  code { background: #f3f3f3; padding: 0 .2rem; }
</style>
</head>
<body>
<h1>Ferry demo</h1>
<p>Open this page in two tabs with the same signaling token and swapped peer ids, e.g.
<code>/demo#token=st_…&amp;me=alice&amp;peer=bob</code> and <code>…&amp;me=bob&amp;peer=alice</code>,
then connect both and call from one. Tokens come from <code>POST /v1/signal-tokens</code>.</p>
<fieldset>
  <label>Signaling token <input id="token" type="password" autocomplete="off" placeholder="st_…"></label>
  <label>My peer id <input id="me" type="text" autocomplete="off"></label>
  <label>Peer to call <input id="peer" type="text" autocomplete="off"></label>
  <label><input id="relay" type="checkbox"> Relay only (force TURN)</label>
  <div class="row"><button id="connect">Connect</button><button id="call">Call</button><button id="hangup">Hang up</button></div>
</fieldset>
<p>Status: <span id="status">idle</span> · Path: <strong id="path">–</strong></p>
<p id="error"></p>
<ul id="log"></ul>
<form id="chat" class="row"><input id="msg" type="text" autocomplete="off" placeholder="Message"><button id="send">Send</button></form>
<script type="module" src="/demo/page.js"></script>
</body>
</html>
`;

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
      .send(DEMO_HTML));

  app.get('/demo/page.js', { schema: { hide: true } }, async (_request, reply) => sendFile(reply, PAGE_SCRIPT));
}
