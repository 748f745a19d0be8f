// The console's live pages end to end: a real Ferry relaying real TURN traffic for an account
// (coturn's turnutils_uclient over UDP to its echo peer, and the project's TURN client over TCP to
// a UDP peer that answers with half of what it gets), headless Chromium signed in through the
// console. The Overview shows the live allocations and a bytes/s figure; the Sessions page lists
// both sessions with their account, transport and client address and bytes that grow; closing the
// TCP one from the page (Close, then OK in the confirmation) sends the session's node, account
// and start with the DELETE, takes its row away, the relay closes the client's TCP connection, and
// the admin API no longer lists it, while the UDP one lives on. A close the server refuses with
// 409 (another session now) is said as already ended, and the list is asked again; 409 wrong_node
// (another node answered) keeps the row, to be closed again.
// Waits are bounded polls of their condition with ample limits (a loaded 2-core CI), never sleeps:
// on a quiet machine each returns as soon as its condition holds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { launchChromium, type LaunchedChromium } from '../../helpers/chromium.js';
import {
  assertClean, LAPTOP, openConsole, PHONE, signIn, startConsoleFerry, type ConsoleFerry, type ConsolePage,
} from '../../helpers/console.js';
import { startEchoPeer, uclientArgs, type EchoPeer } from '../../helpers/coturn-tools.js';
import { spawnGuarded, terminate } from '../../helpers/reaper.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { sleep, withTimeout } from '../../helpers/wait.js';

const TEST_TIMEOUT = 90_000;
/** The limit of one wait for the page or the relay: only reached when something is wrong. */
const WAIT = 20_000;
const CHANNEL = 0x4000;
/** The TCP client's pace: 1000 bytes every 20 ms, 50 kB/s to the peer, half of it back. */
const PAYLOAD = 1000;
const SEND_EVERY_MS = 20;

interface SessionJson {
  id: number;
  account: string;
  started_at: string;
  transport: string;
  client: string;
  bytes_to_peer: number;
  bytes_to_client: number;
}

/** Polls the async `check` every 100 ms until it returns true; fails after `ms` saying `what`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what()}`);
    await sleep(100);
  }
}

/** "25.6 kB/s" → 25600; NaN for anything else (the placeholder "–"). */
function parseRate(text: string): number {
  const m = /^([\d.]+) (B|kB|MB|GB)\/s$/.exec(text.trim());
  if (m === null) return Number.NaN;
  return Number(m[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'B' | 'kB' | 'MB' | 'GB'];
}

describe('console: Overview and Sessions with TURN traffic flowing', { timeout: 180_000 }, () => {
  let ferry: ConsoleFerry | undefined;
  let browser: LaunchedChromium | undefined;
  let c: ConsolePage | undefined;
  let echo: EchoPeer | undefined;
  let uclient: ChildProcess | undefined;
  let uclientOut = '';
  let halfPeer: UdpPeer | undefined;
  let tcp: TestTurnClient | undefined;
  let sender: NodeJS.Timeout | undefined;
  let account = '';
  let heavyId = '';
  let tcpSession: SessionJson | undefined;

  const sessions = async () => {
    const r = await ferry!.admin<{ sessions: SessionJson[] }>('GET', '/v1/sessions');
    assert.equal(r.status, 200);
    return r.json.sessions;
  };

  /**
   * The page must not scroll sideways (tables scroll inside their cards), once it has laid itself
   * out at the new width (`inner` is that width: the resize has reached the page).
   */
  const assertNoSideScroll = async (what: string, width: number) => {
    let seen = { scroll: 0, inner: 0 };
    await eventually(async () => {
      seen = await c!.page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
      return seen.inner === width && seen.scroll <= seen.inner;
    }, 5000, () => `${what}: the page is ${seen.scroll}px wide in a ${seen.inner}px window`);
  };

  before(async () => {
    [ferry, browser, echo, halfPeer] = await Promise.all([
      startConsoleFerry(),
      launchChromium(),
      startEchoPeer(),
      UdpPeer.open('127.0.0.1'),
    ]);
    // A peer that answers with the first half of each datagram: the two directions differ.
    const peer = halfPeer;
    peer.socket.on('message', (d, from) => peer.socket.send(d.subarray(0, d.length >> 1), from.port, from.address));

    const created = await ferry.admin<{ id: string; api_key: string }>('POST', '/v1/accounts', { name: 'Live Demo' });
    assert.equal(created.status, 201);
    account = created.json.id;
    const ice = await fetch(`${ferry.base}/v1/ice-servers`, { method: 'POST', headers: { authorization: `Bearer ${created.json.api_key}` } });
    assert.equal(ice.status, 200);
    const { username, credential } = ((await ice.json()) as { iceServers: { username: string; credential: string }[] }).iceServers[0];
    const payload = Buffer.alloc(PAYLOAD, 0x61);

    // coturn's client over UDP, one allocation (-c), 400-byte messages every 10 ms to its echo
    // peer for up to 60 s (stopped in after()); it starts sending a few seconds after it allocates.
    uclient = spawnGuarded('turnutils_uclient', uclientArgs({
      serverPort: ferry.udpPort, peerPort: echo.port, user: username, password: credential, noRtcp: true,
      messages: 6000, length: 400, intervalMs: 10,
    }));
    uclient.stdout!.setEncoding('utf8').on('data', (d: string) => { uclientOut += d; });
    uclient.stderr!.setEncoding('utf8').on('data', (d: string) => { uclientOut += d; });

    tcp = await TestTurnClient.connect({ transport: 'tcp', port: ferry.tcpPort, username, password: credential });
    assert.equal((await tcp.allocate()).code, 0, 'TCP Allocate');
    assert.equal((await tcp.channelBind(CHANNEL, halfPeer.address)).code, 0, 'ChannelBind');
    sender = setInterval(() => tcp!.sendChannelData(CHANNEL, payload), SEND_EVERY_MS);
    await eventually(async () => tcp!.received > 5, WAIT, () => `echoes through the relay over TCP (got ${tcp!.received})`);

    // A second account that relayed 45 kB (30 kB out, half back) and then left, over a 40 kB limit:
    // the Overview lists it as at its hard limit.
    const heavy = await ferry.admin<{ id: string; api_key: string }>('POST', '/v1/accounts', { name: 'Heavy Sender' });
    heavyId = heavy.json.id;
    const heavyIce = await fetch(`${ferry.base}/v1/ice-servers`, { method: 'POST', headers: { authorization: `Bearer ${heavy.json.api_key}` } });
    const heavyCred = ((await heavyIce.json()) as { iceServers: { username: string; credential: string }[] }).iceServers[0];
    const burst = await TestTurnClient.connect({ transport: 'udp', port: ferry.udpPort, username: heavyCred.username, password: heavyCred.credential });
    try {
      assert.equal((await burst.allocate()).code, 0, 'UDP Allocate');
      assert.equal((await burst.channelBind(CHANNEL, halfPeer.address)).code, 0, 'ChannelBind');
      for (let i = 0; i < 30; i++) burst.sendChannelData(CHANNEL, payload.subarray(0, 1000));
      await eventually(async () => (await sessions()).some((s) => s.account === heavyId && s.bytes_to_peer === 30_000 && s.bytes_to_client === 15_000), WAIT, () => 'the burst relayed');
      assert.equal((await burst.refresh(0)).code, 0, 'Refresh 0 (leave)');
    } finally {
      burst.close();
    }
    assert.equal((await ferry.admin('PATCH', `/v1/accounts/${heavyId}`, { limit: 40_000 })).status, 200);

    c = await openConsole(browser, ferry.base, LAPTOP);
    await signIn(c);
  });

  after(async () => {
    clearInterval(sender);
    tcp?.close();
    await c?.close().catch(() => undefined);
    await browser?.close();
    if (uclient) await terminate(uclient, 1000);
    halfPeer?.close();
    await echo?.stop();
    await ferry?.stop();
  });

  test('Overview: live allocations and bytes per second while traffic flows', { timeout: TEST_TIMEOUT }, async () => {
    const { page } = c!;
    await page.goto(`${ferry!.base}/console#/overview`);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor({ timeout: WAIT });
    const allocations = page.getByRole('group', { name: 'Live allocations' }).locator('.value');
    const toPeer = page.getByRole('group', { name: 'Relayed now, to peers' }).locator('.value');
    const toClient = page.getByRole('group', { name: 'Relayed now, to clients' }).locator('.value');
    await eventually(async () => Number((await allocations.textContent()) ?? 0) >= 1, WAIT, () => 'allocations ≥ 1');
    await eventually(async () => parseRate((await toPeer.textContent()) ?? '') > 0 && parseRate((await toClient.textContent()) ?? '') > 0, WAIT,
      () => 'a bytes/s figure each way');
    // Each figure says which node it is of (behind a load balancer, another node may answer).
    assert.match((await page.locator('#rate-to-peer').textContent()) ?? '', /since node local started/);
    assert.match((await page.locator('#allocations').textContent()) ?? '', /on node local/);
    // The TCP client alone sends 50 kB/s: the figure is that order, not a count of something else.
    const rate = parseRate((await toPeer.textContent()) ?? '');
    assert.ok(rate > 10_000 && rate < 10_000_000, `bytes/s to peers: ${rate}`);

    // The fleet is this node (SQLite storage): listed, active, with its allocations.
    const relays = page.getByRole('region', { name: 'Relays of the fleet' });
    await relays.getByRole('row').nth(1).waitFor({ timeout: WAIT });
    assert.match((await relays.getByRole('row').nth(1).textContent()) ?? '', /local.*this node.*active.*127\.0\.0\.1/);
    assert.match((await page.locator('#usage').textContent()) ?? '', /Usage this timeframe.*B.*UTC to .*UTC/);
    // The account over its limit: a link to its page, its use against the limit, its state.
    const atLimit = page.getByRole('region', { name: 'Accounts near or over their limit' });
    const heavyRow = atLimit.getByRole('row').filter({ has: page.getByRole('link', { name: 'Heavy Sender' }) });
    await heavyRow.waitFor({ timeout: WAIT });
    assert.equal(await heavyRow.getByRole('link').getAttribute('href'), `#/accounts/${heavyId}`);
    assert.match((await heavyRow.textContent()) ?? '', /45\.0 kB of 40\.0 kB.*11[23] %.*hard limit/);
    assert.equal(await atLimit.getByRole('row').count(), 2, 'the header and Heavy Sender: Live Demo has no limit');
    assert.equal(await page.getByRole('alert').count(), 0, 'no failure shown');
    // The relays table is drawn again when the load changes: the focus on it stays.
    await relays.focus();
    await page.evaluate(() => { (document.activeElement as HTMLElement & { old?: boolean }).old = true; });
    await eventually(async () => page.evaluate(() => (document.querySelector('[aria-label="Relays of the fleet"]') as (HTMLElement & { old?: boolean }) | null)?.old !== true),
      WAIT, () => 'the relays table drawn again');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Relays of the fleet');
    await page.evaluate(() => { (document.activeElement as HTMLElement | null)?.blur(); window.scrollTo(0, 0); });

    // Let the chart draw a few readings (and uclient's flow join), then picture it at both sizes.
    const note = page.locator('.chart-box + p');
    await eventually(async () => Number(/^Node local: (\d+) readings/.exec((await note.textContent()) ?? '')?.[1] ?? 0) >= 4, 30_000,
      () => `four readings of node local: ${note}`);
    await eventually(async () => Number((await allocations.textContent()) ?? 0) >= 2, WAIT, () => 'both allocations');
    await c!.screenshot('overview');
    await page.setViewportSize(PHONE);
    await assertNoSideScroll('Overview at phone width', PHONE.width);
    await c!.screenshot('overview');
    await page.setViewportSize(LAPTOP);
  });

  test('Sessions: rows with growing bytes; Close ends the TCP session and the client sees it', { timeout: TEST_TIMEOUT }, async () => {
    const { page } = c!;
    // Ours over TCP, and uclient's over UDP (it makes a second, idle UDP allocation even with -c):
    // the one that carries its flow.
    let listed: SessionJson[] = [];
    await eventually(async () => (listed = await sessions()).some((s) => s.transport === 'udp' && s.bytes_to_peer > 0), 30_000,
      () => `uclient's flow in GET /v1/sessions: ${JSON.stringify(listed)}; its output: ${uclientOut.split('\n').slice(-3).join(' | ')}`);
    const tcpSessions = listed.filter((s) => s.transport === 'tcp');
    assert.equal(tcpSessions.length, 1, JSON.stringify(listed));
    tcpSession = tcpSessions[0];
    const udpSession = listed.find((s) => s.transport === 'udp' && s.bytes_to_peer > 0)!;
    assert.ok(listed.every((s) => s.account === account), 'every session billed to the account');
    assert.equal(tcpSession.client, `127.0.0.1:${tcp!.localPort}`);

    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor({ timeout: WAIT });
    const row = page.locator(`tr[data-session="${tcpSession.id}"]`);
    await row.waitFor({ timeout: WAIT });
    // The listing says whose sessions these are: ids are per node.
    await page.getByRole('heading', { level: 2, name: 'Sessions of node local' }).waitFor({ timeout: WAIT });
    assert.equal(await row.locator('td.account').textContent(), account);
    assert.equal(await row.locator('td.account a').getAttribute('href'), `#/accounts/${account}`);
    assert.equal(await row.locator('td.transport').textContent(), 'TCP');
    assert.equal(await row.locator('td.client').textContent(), tcpSession.client);
    await page.locator(`tr[data-session="${udpSession.id}"]`).waitFor({ timeout: WAIT });
    assert.equal(await page.locator(`tr[data-session="${udpSession.id}"] td.transport`).textContent(), 'UDP');

    // Bytes each way, exact in the cell's title, grow between two reads of the page.
    const exact = async (cls: string) => Number(/^([\d,]+) bytes/.exec((await row.locator(`td.${cls}`).getAttribute('title')) ?? '')?.[1].replaceAll(',', '') ?? Number.NaN);
    const first = await exact('to-peer');
    const firstBack = await exact('to-client');
    assert.ok(first > 0 && firstBack > 0, `bytes in the row: ${first} / ${firstBack}`);
    await eventually(async () => (await exact('to-peer')) > first && (await exact('to-client')) > firstBack, WAIT, () => 'bytes growing in the row');
    await eventually(async () => parseRate((await row.locator('td.rate-to-peer').textContent()) ?? '') > 0, WAIT, () => 'a rate in the row');

    // The filter: another account's name hides both rows, this account's shows them.
    const filter = page.getByLabel('Filter by account');
    await filter.fill('acc_nobody');
    await page.getByText('No live session of an account matching').waitFor({ timeout: WAIT });
    await filter.fill(account.slice(0, 8));
    await row.waitFor({ state: 'visible', timeout: WAIT });
    // A whole account id is asked of the server (sessions beyond the 500 listed are found).
    const askedFor = page.waitForRequest((r) => new URL(r.url()).pathname === '/v1/sessions' && new URL(r.url()).searchParams.get('account') === account, { timeout: WAIT });
    await filter.fill(account);
    await askedFor;
    await page.getByText(new RegExp(`^\\d+ live sessions? of account ${account}$`)).waitFor({ timeout: WAIT });
    await row.waitFor({ state: 'visible', timeout: WAIT });
    // Enter asks for the text as it is: no account has that name, the server lists none.
    await filter.fill('Nobody At All');
    await filter.press('Enter');
    await page.getByText('No live session of account “Nobody At All” on node local.').waitFor({ timeout: WAIT });
    await filter.fill('');
    await row.waitFor({ state: 'visible', timeout: WAIT });
    await page.getByLabel('Filter by account').blur();

    // uclient's flow is on by now: both rows have figures. Picture both sizes.
    await eventually(async () => /[1-9]/.test((await page.locator(`tr[data-session="${udpSession.id}"] td.to-client`).textContent()) ?? ''), WAIT,
      () => 'uclient\'s echoes in its row');
    // And a rate (two readings since the filter's last list) for the picture.
    await eventually(async () => /[1-9]/.test((await page.locator(`tr[data-session="${tcpSession!.id}"] td.rate-to-peer`).textContent()) ?? ''), WAIT,
      () => 'a rate in the TCP row');
    await c!.screenshot('sessions');
    await page.setViewportSize(PHONE);
    await assertNoSideScroll('Sessions at phone width', PHONE.width);
    await c!.screenshot('sessions');
    // The rows are small cards on a phone; a filter that matches none still says so.
    await filter.fill('acc_nobody');
    await row.waitFor({ state: 'hidden', timeout: WAIT });
    await page.getByText('No live session of an account matching').waitFor({ timeout: WAIT });
    await filter.fill('');
    await row.waitFor({ state: 'visible', timeout: WAIT });
    await page.setViewportSize(LAPTOP);

    // Close the TCP session from the page; the confirmation names it.
    let dialogText = '';
    page.once('dialog', (d) => {
      dialogText = d.message();
      void d.accept();
    });
    // By keyboard: the focus stays on the row's Close button across polls (rows are updated in
    // place, not rebuilt), and Enter asks.
    const closeButton = row.getByRole('button', { name: `Close session ${tcpSession.id} of ${account}` });
    await closeButton.focus();
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.tagName ?? '');
    const ageBefore = await row.locator('td.age').textContent();
    await eventually(async () => (await row.locator('td.age').textContent()) !== ageBefore, WAIT, () => 'a poll updating the row');
    assert.equal(await focused(), `Close session ${tcpSession.id} of ${account}`, 'focus kept across a poll');
    assert.equal(tcp!.streamSocket?.closed, false, 'the TCP client is connected before the close');
    const deletes: string[] = [];
    page.on('request', (r) => { if (r.method() === 'DELETE') deletes.push(r.url()); });
    await page.keyboard.press('Enter');
    await row.waitFor({ state: 'detached', timeout: WAIT });
    assert.match(dialogText, new RegExp(`Close session ${tcpSession.id} of ${account} \\(client ${tcpSession.client.replaceAll('.', '\\.')}\\)`));
    // The close names the session as listed: its node, account and start (ids restart with a node).
    assert.equal(deletes.length, 1, deletes.join(' '));
    const sent = new URL(deletes[0]);
    assert.equal(sent.pathname, `/v1/sessions/${tcpSession.id}`);
    assert.deepEqual(Object.fromEntries(sent.searchParams), { node: 'local', account, started_at: tcpSession.started_at });
    // The relay ended the TCP connection: nothing can be echoed to the client any more.
    await withTimeout(tcp!.streamClosed(), WAIT, 'Ferry closing the TCP client\'s connection');
    // The focus moved on to the next row's Close button.
    assert.match(await focused(), /^Close session \d+ of /);
    await page.locator('#status').getByText(`Session ${tcpSession.id} of ${account} closed.`).waitFor({ timeout: WAIT });
    await page.getByText(`Session ${tcpSession.id} of ${account} closed.`, { exact: true }).first().waitFor({ timeout: WAIT });

    // The API no longer lists it; the UDP session lives on, and the page keeps showing it.
    const left = await sessions();
    assert.deepEqual(left.map((s) => s.id), listed.filter((s) => s.id !== tcpSession!.id).map((s) => s.id));
    // A poll asked after the close is answered: the row does not come back.
    await (await page.waitForRequest((r) => new URL(r.url()).pathname === '/v1/sessions', { timeout: WAIT })).response();
    assert.equal(await page.locator(`tr[data-session="${tcpSession.id}"]`).count(), 0);
    assert.equal(await page.locator(`tr[data-session="${udpSession.id}"]`).count(), 1);

    // A close of what is another session now: the server (asked with another start than the
    // session's, as after a restart) answers 409 and closes nothing; the page says the listed
    // session had ended, not that the operator erred, and asks for the list again, which still
    // has the UDP session (it is live: the row comes back).
    const udpRow = page.locator(`tr[data-session="${udpSession.id}"]`);
    const closeUrl = (u: URL) => u.pathname.startsWith('/v1/sessions/');
    await page.route(closeUrl, (route) => {
      const u = new URL(route.request().url());
      u.searchParams.set('started_at', '2000-01-01T00:00:00.000Z');
      void route.continue({ url: u.toString() });
    });
    page.once('dialog', (d) => void d.accept());
    const conflict = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.status() === 409, { timeout: WAIT });
    await udpRow.getByRole('button', { name: `Close session ${udpSession.id} of ${account}` }).click();
    await conflict;
    await page.getByText(`Session ${udpSession.id} of ${account} had already ended; the list is updated.`, { exact: true }).first().waitFor({ timeout: WAIT });
    await udpRow.waitFor({ state: 'visible', timeout: WAIT });
    await page.unroute(closeUrl);
    assert.ok((await sessions()).some((s) => s.id === udpSession.id), 'the 409 closed nothing');
    assert.equal(await page.getByRole('alert').count(), 0, 'no failure shown');

    // Another node answers the close (a load balancer; the request names node "node-b"): 409
    // wrong_node, nothing closed, the row stays with its Close button, and the page says so.
    await page.route(closeUrl, (route) => {
      const u = new URL(route.request().url());
      u.searchParams.set('node', 'node-b');
      void route.continue({ url: u.toString() });
    });
    page.once('dialog', (d) => void d.accept());
    const wrongNode = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.status() === 409, { timeout: WAIT });
    await udpRow.getByRole('button', { name: `Close session ${udpSession.id} of ${account}` }).click();
    await wrongNode;
    await page.getByText(new RegExp(`^Session ${udpSession.id} was not closed: another node answered .*Try again\\.$`)).first().waitFor({ timeout: WAIT });
    await page.unroute(closeUrl);
    assert.equal(await udpRow.count(), 1, 'the row stays');
    assert.equal(await udpRow.getByRole('button', { name: `Close session ${udpSession.id} of ${account}` }).isEnabled(), true);
    assert.ok((await sessions()).some((s) => s.id === udpSession.id), 'wrong_node closed nothing');
    await assertClean(c!);
  });
});
