// deploy/fleet/: the docker-compose example of a fleet (one Redis, two relays on one host) and the
// relays' configs. No Docker daemon here: the compose file is parsed and checked against what a
// fleet needs (the README's "Running a fleet" points at it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseConfig, type LoadedConfig } from '../../../src/config/load.js';

const DIR = fileURLToPath(new URL('../../../../deploy/fleet/', import.meta.url));

interface Service {
  readonly image?: string;
  readonly build?: string;
  readonly network_mode?: string;
  readonly command?: string[];
  readonly depends_on?: string[];
  readonly environment?: Record<string, string>;
  readonly volumes?: string[];
}

const compose = parse(readFileSync(join(DIR, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const relays = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);

/** The relay's config file (mounted at /etc/ferry/config.json), parsed by Ferry's own loader. */
function relayConfig(s: Service): LoadedConfig {
  const mount = s.volumes?.find((v) => v.endsWith(':/etc/ferry/config.json:ro'));
  assert.ok(mount, 'each relay mounts its config read-only at /etc/ferry/config.json');
  const file = join(DIR, mount.split(':')[0]);
  return parseConfig(JSON.parse(readFileSync(file, 'utf8')), file);
}

describe('deploy/fleet (docker compose: Redis + 2 relays)', () => {
  it('has a Redis and two relays built from this repository, all on the host network', () => {
    assert.ok(compose.services.redis?.image?.startsWith('redis:7'), 'a Redis 7 service');
    assert.equal(relays.length, 2);
    for (const [name, s] of [['redis', compose.services.redis] as const, ...relays]) assert.equal(s.network_mode, 'host', `${name}: network_mode host`);
    for (const [name, s] of relays) {
      assert.equal(s.build, '../..', `${name} builds the repository's Dockerfile`);
      assert.deepEqual(s.depends_on, ['redis']);
    }
  });

  it('the relays share one Redis, the secrets and the admin token, and differ in node id, ports and relay ranges', () => {
    const [a, b] = relays.map(([, s]) => relayConfig(s));
    const redis = compose.services.redis!.command!;
    const port = redis[redis.indexOf('--port') + 1];
    for (const c of [a, b]) {
      assert.equal(c.storageUrl, `redis://127.0.0.1:${port}/0`, 'storage is the compose file\'s Redis');
      assert.equal(c.config.pid_file, '/run/ferry/ferry.pid');
    }
    assert.deepEqual(a.config.auth_secrets, b.config.auth_secrets, 'one auth secret: credentials minted by any node work on every node');
    assert.equal(a.config.signaling.admin_token, b.config.signaling.admin_token);
    assert.notEqual(a.config.cluster.node_id, b.config.cluster.node_id);
    assert.notEqual(a.listen.port, b.listen.port, 'two relays on one host need their own TURN ports');
    assert.notEqual(a.signalingListen.port, b.signalingListen.port);
    assert.ok(a.relayPorts.max < b.relayPorts.min || b.relayPorts.max < a.relayPorts.min, 'disjoint relay_ports');
  });

  it('each relay\'s health check asks its own signaling port', () => {
    for (const [name, s] of relays) {
      const c = relayConfig(s);
      const url = s.environment?.FERRY_HEALTHZ_URL ?? 'http://127.0.0.1:8080/healthz';
      assert.equal(new URL(url).port || '80', String(c.signalingListen.port), `${name}: FERRY_HEALTHZ_URL`);
    }
  });
});
