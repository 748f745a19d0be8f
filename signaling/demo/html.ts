/**
 * The demo page's markup (served at GET /demo; its script is /demo/page.js). It holds nothing
 * secret: the signaling token comes from the URL fragment, which the browser never sends.
 */
export const DEMO_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Ferry demo</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; max-width: 60rem; margin: 1rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin: 0 0 .3rem; } h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
  .intro { margin: 0 0 .8rem; color: #555; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; align-items: start; }
  section { border: 1px solid #ccc; border-radius: 6px; padding: .7rem .8rem; }
  label { display: block; margin: .25rem 0; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; }
  .row { display: flex; gap: .5rem; margin-top: .4rem; } .row input { flex: 1; }
  button:disabled { opacity: .45; }
  #status { font-weight: 600; }
  #problem { margin: .6rem 0 0; padding: .5rem .6rem; border-radius: 6px; background: #fdecea; border: 1px solid #e0a59e; }
  #problem[hidden] { display: none; }
  #problem-title { font-weight: 600; color: #8a1c10; } #problem-detail { color: #666; font-size: .85em; margin-top: .2rem; }
  #log { list-style: none; padding: .4rem; margin: .6rem 0 0; height: 9rem; overflow-y: auto; border: 1px solid #ccc; border-radius: 6px; }
  #log .me { color: #036; } #log .them { color: #630; }
  table { border-collapse: collapse; width: 100%; }
  th { text-align: left; font-weight: 500; color: #555; white-space: nowrap; padding: .2rem .6rem .2rem 0; vertical-align: top; }
  td { padding: .2rem 0; word-break: break-all; }
  #path.relay { color: #7a3e00; } #path.direct { color: #176117; }
  .note { color: #777; font-size: .85em; margin: .5rem 0 0; }
  code { background: #f3f3f3; padding: 0 .2rem; }
</style>
</head>
<body>
<h1>Ferry demo</h1>
<p class="intro">Two tabs, one call: open the two demo URLs that <code>ferry start</code> prints in the development setup
(or <code>/demo#token=st_…&amp;me=alice&amp;peer=bob</code> and <code>…&amp;me=bob&amp;peer=alice&amp;call=1</code>,
with tokens from <code>POST /v1/signal-tokens</code>). Add <code>&amp;relay=1</code> for relay only.</p>
<div class="grid">
<section>
  <h2>Call</h2>
  <label>Signaling token <input id="token" type="password" autocomplete="off" placeholder="st_…"></label>
  <label>My peer id <input id="me" type="text" autocomplete="off"></label>
  <label>Peer to call <input id="peer" type="text" autocomplete="off"></label>
  <label><input id="relay" type="checkbox"> Relay only (iceTransportPolicy "relay": force TURN)</label>
  <div class="row"><button id="connect" disabled>Connect</button><button id="call" disabled>Call</button><button id="hangup" disabled>Hang up</button></div>
  <p>Status: <span id="status">idle</span></p>
  <div id="problem" role="alert" hidden><div id="problem-title"></div><div id="problem-hint"></div><div id="problem-detail"></div></div>
  <ul id="log"></ul>
  <form id="chat" class="row"><input id="msg" type="text" autocomplete="off" placeholder="Message" disabled><button id="send" disabled>Send</button></form>
</section>
<section>
  <h2>Connection <span id="path" class="">–</span></h2>
  <table id="stats"><tbody><tr><th>Connection</th><td>no call yet</td></tr></tbody></table>
  <p class="note">From RTCPeerConnection.getStats(), every second: the selected ICE candidate pair, its round-trip time and the bytes it carried each way.</p>
</section>
</div>
<script type="module" src="/demo/page.js"></script>
</body>
</html>
`;
