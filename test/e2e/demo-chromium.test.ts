// The turnkey demo, end to end: a real `ferry start --fg --dev` (the development setup on a config
// of free loopback ports) prints two demo URLs; headless Chromium opens them in two tabs, in the
// "wrong" order (the caller first), and the call connects with no other input. The connection
// panel shows the selected candidate pair (host for a direct call; relay, with the relayed address,
// for a relay-only call), the round-trip time and non-zero bytes; a failure shows its hint on both
// tabs, and a closed tab on the other one.
//
// Screenshots of the direct and the relay-only call (1000×700) go to docs/demo-direct.png and
// docs/demo-relay.png when FERRY_UPDATE_SCREENSHOTS=1, else to a temp dir, so `npm test` leaves
// the checkout clean.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium.js';
import { freePort, reservePortRange, type PortRange } from '../helpers/ports.js';
import { spawnGuarded, terminate } from '../helpers/reaper.js';
import { tempDir } from '../helpers/temp-dir.js';
import { sleep } from '../helpers/wait.js';
import type { DemoState } from '../../signaling/demo/page.js';
import { demoState, waitForState } from '../helpers/demo-page.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/e2e → root
const FERRY = join(ROOT, 'bin', 'ferry.js');
const SHOTS = process.env.FERRY_UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs') : tempDir('ferry-demo-shots');
const VIEWPORT = { width: 1000, height: 700 };
const TEST_TIMEOUT = 90_000;
const SECRET = 'demo-test-auth-secret-0123456789';
const ADMIN_TOKEN = 'demo-test-admin-token-0123456789';

async function waitFor(check: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await sleep(50);
  }
}

describe('the demo: two URLs from the startup notice, a call with no reading', () => {
  const dir = tempDir('ferry-demo');
  const configFile = join(dir, 'config.json');
  let range: PortRange | undefined;
  let child: ChildProcess | undefined;
  let out = '';
  let notice = '';
  let urls: [string, string];
  let browser: LaunchedChromium | undefined;
  let config: Record<string, unknown>;

  before(async () => {
    const port = await freePort();
    range = await reservePortRange();
    config = {
      address: `127.0.0.1:${port}`,
      relay_ip: '127.0.0.1',
      relay_ports: `${range.lo}-${range.hi}`,
      auth_secrets: [SECRET],
      signaling: { address: '127.0.0.1:0', admin_token: ADMIN_TOKEN },
      storage: 'sqlite:data/ferry.db',
      log_level: 'info',
    };
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const c = spawnGuarded(process.execPath, [FERRY, 'start', '--fg', '--dev', '--config', configFile], dir);
    child = c;
    c.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    c.stderr.setEncoding('utf8').on('data', (d: string) => { notice += d; });
    await waitFor(() => /calls "alice"[\s\S]*restart Ferry/.test(notice) || c.exitCode !== null, 20_000, () => `the dev notice\n${notice}\n${out}`);
    assert.equal(c.exitCode, null, `ferry exited:\n${notice}\n${out}`);
    const found = [...notice.matchAll(/^ {4}(http:\/\/\S+\/demo#\S+)$/gm)].map((m) => m[1]);
    assert.equal(found.length, 2, notice);
    urls = [found[0], found[1]];
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    if (child !== undefined) await terminate(child, 3000);
    range?.release();
  });

  async function openPages(suffix: string): Promise<{ alice: Page; bob: Page; errors: string[]; diag: () => Promise<string> }> {
    const [alice, bob] = [await browser!.context.newPage(), await browser!.context.newPage()];
    const errors: string[] = [];
    for (const p of [alice, bob]) {
      await p.setViewportSize(VIEWPORT);
      p.on('pageerror', (e) => errors.push(e.message));
    }
    const diag = async () =>
      `page errors: ${JSON.stringify(errors)}\nalice: ${JSON.stringify(await demoState(alice).catch(() => null))}` +
      `\nbob: ${JSON.stringify(await demoState(bob).catch(() => null))}\n--- ferry log ---\n${out.slice(-3000)}`;
    // The caller first: it keeps calling until the other tab is open.
    await bob.goto(urls[1] + suffix);
    await waitForState(bob, 'bob calling', (s) => s.registered && /calling alice|waiting for alice/.test(s.status));
    assert.equal(await bob.isDisabled('#connect'), true, 'connect: disabled once registered');
    assert.equal(await bob.isDisabled('#send'), true, 'send: disabled until the data channel is open');
    await alice.goto(urls[0] + suffix);
    return { alice, bob, errors, diag };
  }

  /** Waits until both tabs are in the call with stats, a message went each way and the bytes counted. */
  async function callAndChat(alice: Page, bob: Page, diag: () => Promise<string>): Promise<[DemoState, DemoState]> {
    await Promise.all([
      waitForState(alice, 'alice in the call', (s) => s.stats !== null || s.error !== null),
      waitForState(bob, 'bob in the call', (s) => s.stats !== null || s.error !== null),
    ]).catch(async (err: Error) => { throw new Error(`${err.message}\n${await diag()}`); });
    await alice.fill('#msg', 'hello bob');
    await alice.press('#msg', 'Enter');
    await waitForState(bob, 'bob receives', (s) => s.received.includes('hello bob'));
    await bob.fill('#msg', 'hello alice');
    await bob.click('#send');
    await waitForState(alice, 'alice receives', (s) => s.received.includes('hello alice'));
    // The panel updates every second: wait for the bytes of the messages.
    const counted = (s: DemoState) => s.stats !== null && s.stats.bytesSent > 0 && s.stats.bytesReceived > 0 && s.stats.rttMs !== null;
    const sa = await waitForState(alice, 'alice stats with bytes and RTT', counted, 10_000);
    const sb = await waitForState(bob, 'bob stats with bytes and RTT', counted, 10_000);
    for (const [name, s] of [['alice', sa], ['bob', sb]] as const) {
      assert.equal(s.error, null, `${name}: ${await diag()}`);
      assert.equal(s.registered, true);
    }
    assert.equal(sa.peer, 'bob');
    assert.equal(sb.peer, 'alice');
    for (const p of [alice, bob]) {
      assert.equal(await p.isDisabled('#call'), true, 'call: disabled during the call');
      assert.equal(await p.isEnabled('#send'), true, 'send: enabled once the channel is open');
      assert.equal(await p.isEnabled('#hangup'), true);
      const panel = (await p.textContent('#stats')) ?? '';
      assert.match(panel, /Bytes sent[1-9][\d.]* k?B/);
      assert.match(panel, /Bytes received[1-9][\d.]* k?B/);
      assert.match(panel, /Round-trip time[\d.]+ ms/);
    }
    return [sa, sb];
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, name) });
  }

  test('the notice: two demo URLs with a one-hour signaling token in the fragment, no API key, no admin token', () => {
    for (const url of urls) {
      const u = new URL(url);
      assert.equal(u.pathname, '/demo');
      assert.equal(u.search, '', 'nothing in the query string (it reaches server logs)');
      const params = new URLSearchParams(u.hash.slice(1));
      assert.match(params.get('token') ?? '', /^st_/);
      assert.doesNotMatch(url, /fk_/);
      assert.ok(!url.includes(ADMIN_TOKEN) && !url.includes(SECRET));
    }
    assert.deepEqual([new URLSearchParams(new URL(urls[0]).hash.slice(1)).get('me'), new URLSearchParams(new URL(urls[1]).hash.slice(1)).get('call')], ['alice', '1']);
    assert.match(notice, /expires in 1 hour \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
    assert.ok(!notice.includes(ADMIN_TOKEN), 'the admin token is not printed');
  });

  test('buttons are disabled until they can work', { timeout: TEST_TIMEOUT }, async () => {
    const page = await browser!.context.newPage();
    try {
      await page.goto(new URL('/demo', urls[0]).href);
      await waitForState(page, 'the page ready', (s) => s.status.startsWith('enter a signaling token'));
      for (const id of ['#connect', '#call', '#hangup', '#send']) assert.equal(await page.isDisabled(id), true, id);
      await page.fill('#token', 'st_x');
      assert.equal(await page.isDisabled('#connect'), true, 'no peer id yet');
      await page.fill('#me', 'carol');
      assert.equal(await page.isEnabled('#connect'), true);
      assert.equal(await page.isDisabled('#call'), true, 'not registered');
      // A bad token: the hint says what to do.
      await page.click('#connect');
      const s = await waitForState(page, 'the refusal', (st) => st.error !== null);
      assert.equal(s.errorCode, 'unauthorized', JSON.stringify(s));
      assert.match(await page.textContent('#problem') ?? '', /Signaling token refused.*restart Ferry/);
      assert.equal(await page.isVisible('#problem'), true);
    } finally {
      await page.close();
    }
  });

  test('an unknown peer id: Call says the peer is not online and what to do', { timeout: TEST_TIMEOUT }, async () => {
    const page = await browser!.context.newPage();
    try {
      assert.match(urls[0], /&peer=bob/);
      await page.goto(urls[0].replace('&peer=bob', '&peer=carol'));
      await waitForState(page, 'registered', (s) => s.registered);
      assert.equal(await page.isEnabled('#call'), true, 'call: enabled once registered with a peer id');
      await page.fill('#peer', '');
      assert.equal(await page.isDisabled('#call'), true, 'call: disabled without a peer id');
      await page.fill('#peer', 'carol');
      await page.click('#call');
      assert.equal(await page.isEnabled('#hangup'), true, 'hang up: enabled while calling');
      // The offer waits in Ferry's queue for carol (10 s), then the page says why the call failed.
      const s = await waitForState(page, 'the failure', (st) => st.error !== null, 20_000);
      assert.equal(s.errorCode, 'peer_unavailable', JSON.stringify(s));
      assert.match(await page.textContent('#problem') ?? '', /carol is not online.*open the other demo URL \(me=carol\)/);
      assert.equal(await page.isEnabled('#call'), true, 'call: enabled again');
    } finally {
      await page.close();
    }
  });

  test('direct: the call connects by itself, a direct candidate pair, RTT and bytes each way', { timeout: TEST_TIMEOUT }, async () => {
    const { alice, bob, errors, diag } = await openPages('');
    try {
      const [sa, sb] = await callAndChat(alice, bob, diag);
      for (const s of [sa, sb]) {
        assert.equal(s.path, 'direct', await diag());
        // A host candidate, or peer-reflexive when the other side's connectivity check arrived before
        // its candidate did (ICE then learns the same address from the check), or server-reflexive:
        // on loopback Ferry's STUN answer names the host address itself, and Chromium may pair that
        // candidate first (seen once in CI). Direct in every case: never a relay candidate.
        assert.match(s.stats!.local.type, /^(host|prflx|srflx)$/);
        assert.equal(s.stats!.relayedAddress, null);
      }
      assert.match(await bob.textContent('#stats') ?? '', /Local candidate(host|prflx|srflx) · udp/);
      assert.equal((await bob.textContent('#path'))?.trim(), 'direct');
      await screenshot(bob, 'demo-direct.png');
      assert.deepEqual(errors, []);
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  test('relay only (&relay=1): relay candidates, the relayed address in the relay port range', { timeout: TEST_TIMEOUT }, async () => {
    const { alice, bob, errors, diag } = await openPages('&relay=1');
    try {
      const [sa, sb] = await callAndChat(alice, bob, diag);
      for (const s of [sa, sb]) {
        assert.equal(s.path, 'relay', await diag());
        assert.equal(s.stats!.local.type, 'relay');
        const m = /^127\.0\.0\.1:(\d+)$/.exec(s.stats!.relayedAddress ?? '');
        assert.ok(m, `relayed address ${s.stats!.relayedAddress}`);
        const port = Number(m[1]);
        assert.ok(port >= range!.lo && port <= range!.hi, `relayed port ${port} in ${range!.lo}-${range!.hi}`);
      }
      const panel = (await bob.textContent('#stats')) ?? '';
      // The demo hands out a TURN URL over UDP and one over TCP, so Chromium has a relay candidate
      // on each and may pick either pair (on a loaded machine the TCP one sometimes answers first);
      // relaying over each transport is proven in test/interop/chromium.test.ts.
      assert.match(panel, /Local candidaterelay · udp · 127\.0\.0\.1:\d+, to the relay over (udp|tcp)/);
      assert.match(panel, /Relayed address127\.0\.0\.1:\d+/);
      assert.equal((await bob.textContent('#path'))?.trim(), 'relay');
      await screenshot(bob, 'demo-relay.png');

      // Bob closes his tab: Alice's tab says so, with what to do.
      await bob.close({ runBeforeUnload: true });
      const left = await waitForState(alice, 'alice sees bob leave', (s) => s.errorCode !== null, 15_000);
      assert.equal(left.errorCode, 'peer_left', JSON.stringify(left));
      assert.match(await alice.textContent('#problem') ?? '', /bob left the call.*closed the tab/);
      assert.equal(await alice.isEnabled('#call'), true, 'call again: enabled');
      assert.equal(await alice.isDisabled('#send'), true, 'send: disabled once the channel closed');
      assert.deepEqual(errors, []);
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  test('ICE failure (the relay refuses the peer): the hint shows on both tabs', { timeout: TEST_TIMEOUT }, async () => {
    // Deny the relay's own address as a peer (a live reload): relay-only candidates cannot pair.
    writeFileSync(configFile, JSON.stringify({ ...config, peers: { deny: ['127.0.0.0/8'] } }, null, 2));
    const before = out.length;
    child!.kill('SIGHUP');
    await waitFor(() => out.slice(before).includes('configuration reloaded'), 10_000, () => `the reload\n${out.slice(before)}`);
    const { alice, bob, diag } = await openPages('&relay=1');
    try {
      const failed = (s: DemoState) => s.errorCode !== null;
      const [sa, sb] = await Promise.all([
        waitForState(alice, 'alice shows the failure', failed, 60_000),
        waitForState(bob, 'bob shows the failure', failed, 60_000),
      ]).catch(async (err: Error) => { throw new Error(`${err.message}\n${await diag()}`); });
      for (const [p, s] of [[alice, sa], [bob, sb]] as const) {
        assert.equal(s.errorCode, 'ice_failed', `${JSON.stringify(s)}\n${await diag()}`);
        const shown = (await p.textContent('#problem')) ?? '';
        assert.match(shown, /ICE failed: no path through the relay worked/);
        assert.match(shown, /check that the TURN server \(turn:127\.0\.0\.1:\d+/);
        assert.equal(await p.isDisabled('#send'), true);
      }
    } finally {
      await alice.close();
      await bob.close();
    }
  });
});
