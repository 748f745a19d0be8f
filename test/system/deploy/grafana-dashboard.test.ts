// deploy/grafana/ferry-dashboard.json, the Grafana dashboard for Ferry's Prometheus metrics, checked
// against what a real Ferry exports: a `ferry start --fg` process with metrics.token relays a few
// known packets between a TURN client and a loopback peer, crosses an account's soft usage limit
// and closes its allocation, so every metric the dashboard shows has series. Then its GET /metrics
// (with the bearer token, as the README's scrape config sends it) is the reference: every metric
// name, matcher label, `by (...)` label and legend label of every query must be in it. Wrong copies
// of the dashboard (a metric or a label Ferry does not export, a bad layout) must fail the check.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apiJson, apiRequest } from '../../helpers/admin-http.js';
import { LOOPBACK_PEERS, signalingPort, startFerryProcess, type FerryProcess } from '../../helpers/ferry-process.js';
import { allPanels, checkDashboard, expressions, promqlRefs, type Dashboard } from '../../helpers/grafana-dashboard.js';
import { parseExposition, type Exposition } from '../../helpers/prometheus-text.js';
import { TestTurnClient } from '../../helpers/turn-client.js';
import { UdpPeer } from '../../helpers/udp-peer.js';
import { sleep, until } from '../../helpers/wait.js';
import { Cleanups } from '../../helpers/cleanups.js';

const FILE = fileURLToPath(new URL('../../../../deploy/grafana/ferry-dashboard.json', import.meta.url));
const ADMIN = 'grafana-test-admin-token-0123';
const METRICS_TOKEN = 'grafana-test-metrics-token-0123';
const LIMIT = 10_000; // soft limit 50 %: 5000 bytes, both directions together
const CHUNK = 1000;
const CHANNEL = 0x4000;
const XOR_RELAYED_ADDRESS = 0x0016;

const text = readFileSync(FILE, 'utf8');
const dashboard = JSON.parse(text) as Dashboard;

describe('deploy/grafana/ferry-dashboard.json against a real Ferry\'s /metrics', () => {
  const cleanups = new Cleanups();
  let base = '';
  let body = '';
  let scrape: Exposition;

  const metrics = async (token?: string) => {
    const res = await apiRequest(base, 'GET', '/metrics', token);
    return { status: res.status, body: await res.text() };
  };

  before(async () => {
    const ferry: FerryProcess = await startFerryProcess({
      peers: LOOPBACK_PEERS,
      signaling: { address: '127.0.0.1:0', admin_token: ADMIN },
      metrics: { token: METRICS_TOKEN },
      network_usage: { soft_limit: '50%', hard_limit: '80%', write_interval: '200ms', report_interval: '1s', timeframe: '1h' },
    });
    cleanups.push(() => ferry.stop());
    let port = 0;
    port = await signalingPort(ferry);
    base = `http://127.0.0.1:${port}`;

    // An account with a small limit and a TURN credential of it.
    const created = await apiJson(base, 'POST', '/v1/accounts', ADMIN, { name: 'grafana' });
    assert.equal(created.status, 201);
    const { id, api_key: apiKey } = created.json as { id: string; api_key: string };
    assert.equal((await apiJson(base, 'PATCH', `/v1/accounts/${id}`, ADMIN, { limit: LIMIT })).status, 200);
    const ice = await apiJson(base, 'POST', '/v1/ice-servers', apiKey);
    assert.equal(ice.status, 200);
    const { username, credential } = ice.json.iceServers[0] as { username: string; credential: string };

    // 4000 bytes to the peer and 1000 back: the soft limit (5000 bytes), a limit event.
    const peer = await UdpPeer.open('127.0.0.1');
    cleanups.push(() => peer.close());
    const client = await TestTurnClient.connect({ port: ferry.udpPort, username, password: credential });
    cleanups.push(() => client.close());
    const relayed = (await client.allocate()).xorAddress(XOR_RELAYED_ADDRESS);
    assert.ok(relayed, 'a relayed address');
    assert.equal((await client.channelBind(CHANNEL, peer.address)).code, 0);
    for (let i = 0; i < 4; i++) client.sendChannelData(CHANNEL, Buffer.alloc(CHUNK, 1));
    assert.ok(await peer.waitFor(4), 'the peer got the 4 packets');
    peer.send(Buffer.alloc(CHUNK, 2), relayed);
    assert.equal((await client.nextData())?.data.length, CHUNK, 'the client got the peer\'s packet');
    // The limiter checks after each usage write (write_interval 200 ms).
    const deadline = Date.now() + 10_000;
    for (body = (await metrics(METRICS_TOKEN)).body; !/^ferry_limit_events_total\{event="soft_limit"\} 1$/m.test(body); body = (await metrics(METRICS_TOKEN)).body) {
      assert.ok(Date.now() < deadline, `no soft_limit event in /metrics within 10 s:\n${body}`);
      await sleep(200);
    }
    // The client lets go of its allocation: a session closed, reason "refresh".
    assert.equal((await client.refresh(0)).code, 0);
    const res = await metrics(METRICS_TOKEN);
    assert.equal(res.status, 200);
    body = res.body;
    scrape = parseExposition(body);
  });

  after(async () => {
    await cleanups.run();
  });

  it('GET /metrics wants the bearer token of metrics.token (the README\'s scrape config sends it)', async () => {
    assert.equal((await metrics()).status, 401);
    assert.equal((await metrics('wrong-token-of-enough-length')).status, 401);
    assert.equal((await metrics(METRICS_TOKEN)).status, 200);
  });

  it('the scrape has the relayed traffic, the limit event and the closed session', () => {
    assert.match(body, /^ferry_relayed_bytes_total\{transport="udp",direction="to_peer"\} 4000$/m);
    assert.match(body, /^ferry_relayed_bytes_total\{transport="udp",direction="to_client"\} 1000$/m);
    assert.match(body, /^ferry_relayed_packets_total\{transport="udp",direction="to_peer"\} 4$/m);
    assert.match(body, /^ferry_sessions_closed_total\{reason="refresh"\} 1$/m);
    assert.match(body, /^ferry_allocations_total\{transport="udp"\} 1$/m);
  });

  it('is an importable dashboard whose every query names only metrics and labels of the scrape', () => {
    assert.ok((dashboard.schemaVersion ?? 0) >= 39);
    assert.ok(allPanels(dashboard).filter((p) => p.type !== 'row').length >= 25, 'the panels the README lists');
    assert.deepEqual(checkDashboard(dashboard, scrape), []);
  });

  it('every metric name in its queries (ferry_*, process_*, nodejs_*) is in the scrape, read by name alone too', () => {
    // A second reading independent of the PromQL tokenizer: the names by their prefixes, a
    // histogram's or summary's _bucket/_sum/_count taken back to its family.
    const byPrefix = new Set(expressions(dashboard).flatMap((e) => e.match(/\b(?:ferry|process|nodejs)_[a-z0-9_]+/g) ?? []));
    const family = (n: string) => {
      const base = n.replace(/_(?:bucket|sum|count)$/, '');
      return ['histogram', 'summary'].includes(scrape.types.get(base) ?? '') ? base : n;
    };
    for (const name of byPrefix) assert.ok(scrape.types.has(family(name)), `${name}: no # TYPE ${family(name)} in the scrape`);
    const tokenized = new Set(expressions(dashboard).flatMap((e) => promqlRefs(e).metrics.map((m) => m.name)));
    assert.deepEqual([...tokenized].sort(), [...byPrefix].sort(), 'both readings find the same metrics');
  });

  it('shows every ferry_* metric Ferry exports', () => {
    const used = new Set(expressions(dashboard).flatMap((e) => promqlRefs(e).metrics.map((m) => m.name)));
    const missing = [...scrape.types.keys()].filter((n) => n.startsWith('ferry_') && !used.has(n));
    assert.deepEqual(missing, [], 'ferry_* metrics no panel shows: add them to deploy/grafana/ferry-dashboard.json');
  });

  it('a copy naming a metric or label Ferry does not export, or with a broken layout, fails the check', () => {
    const wrong = (from: string | RegExp, to: string): string[] => {
      const changed = text.replace(from, to);
      assert.notEqual(changed, text, `the dashboard has ${String(from)}`);
      return checkDashboard(JSON.parse(changed) as Dashboard, scrape);
    };
    const has = (problems: string[], re: RegExp) => assert.ok(problems.some((p) => re.test(p)), `${re} in:\n${problems.join('\n')}`);
    has(wrong('ferry_relayed_bytes_total', 'ferry_bytes_relayed_total'), /metric ferry_bytes_relayed_total is not in the scrape/);
    has(wrong('process_resident_memory_bytes', 'process_resident_memory'), /metric process_resident_memory is not in the scrape/);
    has(wrong('sum by (direction)', 'sum by (dir)'), /by\/on \(dir\): ferry_relayed_bytes_total has no label dir/);
    has(wrong('max(ferry_webhook_backlog{', 'max(ferry_webhook_backlog{transport=\\"udp\\", '), /ferry_webhook_backlog has no label transport/);
    has(wrong('"legendFormat": "{{direction}}"', '"legendFormat": "{{transport}}"'), /legend \{\{transport\}\}: not a label of the result/);
    has(wrong('label_values(ferry_data_plane_info, job)', 'label_values(ferry_data_plane, job)'), /variable job: metric ferry_data_plane is not in the scrape/);
    has(wrong('rate(ferry_allocations_total', 'rat(ferry_allocations_total'), /unknown function rat\(\)/);
    has(wrong('instance=~\\"$instance\\"', 'instance=~\\"$node\\"'), /variable \$node is not defined/);
    has(wrong('"id": 3,', '"id": 2,'), /panel 2 .*not unique/);
    has(wrong('"w": 3,\n        "x": 21,', '"w": 6,\n        "x": 21,'), /not inside 24 columns/);
    has(wrong('"uid": "${datasource}"', '"uid": "prometheus-main"'), /its data source is not the Prometheus one/);
  });
});
