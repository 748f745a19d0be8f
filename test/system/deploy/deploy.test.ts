// Packaging and deployment files: the Dockerfile (parsed; its HEALTHCHECK run against a live
// signaling app), .dockerignore, deploy/config.json, deploy/ferry.service (parsed, and checked by
// systemd-analyze when present) and deploy/nginx.conf (nginx -t when nginx is installed).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configuredPidFile, parseConfig } from '../../../src/config/load.js';
import { WebSocket } from 'ws';
import { freePort } from '../../helpers/ports.js';
import { makeSelfSignedCert, type TestCert } from '../../helpers/tls-cert.js';
import { until, withTimeout } from '../../helpers/wait.js';
import { testApp, type TestApp } from '../../helpers/signaling-app.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface Instruction {
  readonly op: string;
  readonly args: string;
  /** Index of the build stage (FROM) the instruction belongs to. */
  readonly stage: number;
}

/** Dockerfile instructions: continuation lines joined, comments and blank lines dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || line === '') continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const full = pending + line;
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(full)!;
    const op = m[1].toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ op, args: m[2], stage });
  }
  assert.equal(pending, '', 'the Dockerfile ends inside a continuation line');
  return out;
}

const DOCKERFILE = parseDockerfile(read('Dockerfile'));
const ops = (op: string, stage?: number) => DOCKERFILE.filter((i) => i.op === op && (stage === undefined || i.stage === stage));
const execForm = (args: string): string[] => JSON.parse(args) as string[];

describe('Dockerfile', () => {
  const froms = ops('FROM');
  const runtime = froms.length - 1;

  it('is multi-stage: a named build stage, and a runtime stage on the same base image', () => {
    assert.ok(froms.length >= 2, 'at least two FROM');
    const build = /^(\S+)\s+AS\s+build$/i.exec(froms[0].args);
    assert.ok(build, `first stage is "FROM <image> AS build": ${froms[0].args}`);
    assert.match(build[1], /^node:(22|24)-bookworm-slim$/);
    assert.equal(froms[runtime].args.split(/\s+/)[0], build[1], 'runtime on the same base');
  });

  it('builds with a toolchain for better-sqlite3, npm ci after the sources (it builds), then prunes dev dependencies', () => {
    const run = ops('RUN', 0).map((i) => i.args);
    const apt = run.find((r) => r.includes('apt-get install'));
    for (const pkg of ['python3', 'make', 'g++']) assert.ok(apt?.split(/\s+/).includes(pkg), `installs ${pkg}`);
    const at = (pred: (i: Instruction) => boolean) => DOCKERFILE.findIndex((i) => i.stage === 0 && pred(i));
    const ci = at((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
    const prune = at((i) => i.op === 'RUN' && /\bnpm prune --omit=dev\b/.test(i.args));
    assert.ok(ci >= 0 && prune > ci, 'npm ci, then npm prune --omit=dev');
    // Built once: npm ci's prepare script is the build.
    assert.equal(at((i) => i.op === 'RUN' && /\bnpm run build\b/.test(i.args)), -1, 'no second build after npm ci');
    assert.ok(!/--ignore-scripts/.test(DOCKERFILE[ci].args), 'npm ci runs the prepare script');
    // `npm ci` runs the prepare script (the build): what it reads must be there already. The build is
    // tsc over tsconfig.build.json (every product folder, no tests or benches), the SDK bundle and the console's.
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    assert.match(scripts.prepare, /\bnpm run (--silent )?build\b/);
    assert.match(scripts.build, /^tsc -p tsconfig\.build\.json && node scripts\/build-sdk\.js && node scripts\/build-console\.js$/);
    const include = (JSON.parse(read('tsconfig.build.json')) as { include: string[] }).include.map((g) => g.split('/')[0]);
    const product = include.filter((d) => d !== 'test' && d !== 'bench');
    assert.deepEqual(product, include, 'the build compiles no tests or benches');
    const all = (JSON.parse(read('tsconfig.json')) as { include: string[] }).include.map((g) => g.split('/')[0]);
    assert.deepEqual([...product].sort(), all.filter((d) => d !== 'test' && d !== 'bench').sort(), 'and every product folder tsconfig.json compiles');
    assert.ok(product.includes('turn') && product.includes('app') && product.includes('client'), product.join(', '));
    // npm ci's install script builds the native data plane: it and its inputs are there too, and
    // with a toolchain in the image a build that fails fails the image.
    assert.equal(scripts.install, 'node scripts/build-native.js');
    assert.match(DOCKERFILE[ci].args, /^FERRY_NATIVE_REQUIRED=1 npm ci\b/, 'the native build is required in the image');
    const native = ['scripts/build-native.js', 'binding.gyp', 'native/src'];
    for (const dir of ['package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build-sdk.js', 'scripts/build-console.js', ...native, ...product, 'bin']) {
      const copy = at((i) => i.op === 'COPY' && i.args.split(/\s+/).slice(0, -1).some((s) => s.replace(/\/$/, '') === dir));
      assert.ok(copy >= 0 && copy < ci, `${dir} is copied before npm ci`);
    }
  });

  it('runs as the non-root user ferry with dist/, bin/, node_modules/, package.json and the native addon from the build', () => {
    const users = ops('USER', runtime);
    assert.equal(users.length, 1);
    assert.equal(users[0].args, 'ferry');
    assert.ok(!['root', '0'].includes(users.at(-1)!.args.split(':')[0]));
    assert.ok(ops('RUN', runtime).some((i) => /\buseradd\b.*\bferry$/.test(i.args)), 'the ferry user is created');
    const copied = ops('COPY', runtime)
      .filter((i) => i.args.startsWith('--from=build '))
      .map((i) => i.args.split(/\s+/)[1].replace(/^\/app\//, ''));
    // The addon where turn/native/addon.ts looks for it (build/Release/ beside dist/).
    assert.deepEqual(copied.sort(), ['bin', 'build/Release/ferry_native.node', 'dist', 'node_modules', 'package.json']);
  });

  it('exposes the default ports and a relay port range inside relay_ports', () => {
    const exposed = ops('EXPOSE', runtime).flatMap((i) => i.args.split(/\s+/));
    const defaults = parseConfig({}, null);
    for (const port of [`${defaults.listen.port}/udp`, `${defaults.listen.port}/tcp`, '5349/tcp', `${defaults.signalingListen.port}/tcp`]) {
      assert.ok(exposed.includes(port), `EXPOSE ${port}`);
    }
    const range = exposed.map((p) => /^(\d+)-(\d+)\/udp$/.exec(p)).find((m) => m !== null);
    assert.ok(range, 'a relay port range over UDP');
    const [lo, hi] = [Number(range[1]), Number(range[2])];
    assert.ok(lo < hi && lo >= defaults.relayPorts.min && hi <= defaults.relayPorts.max, `${lo}-${hi} within relay_ports`);
  });

  it('starts ferry in the foreground on a config whose database is on the volume', () => {
    assert.deepEqual(execForm(ops('ENTRYPOINT', runtime)[0].args), ['node', 'bin/ferry.js']);
    const cmd = execForm(ops('CMD', runtime)[0].args);
    assert.deepEqual(cmd, ['start', '--fg', '--config', '/etc/ferry/config.json']);
    assert.deepEqual(ops('VOLUME', runtime).map((i) => i.args), ['/var/lib/ferry']);
    assert.ok(ops('COPY', runtime).some((i) => i.args === 'deploy/config.json /etc/ferry/config.json'));
    const loaded = parseConfig(JSON.parse(read('deploy/config.json')), '/etc/ferry/config.json');
    assert.match(loaded.storageUrl, /^sqlite:\/var\/lib\/ferry\//, 'the accounts database lives on the volume');
  });

  it('keeps the pid file where the ferry user writes it and `docker exec <c> ferry ... --config` finds it', () => {
    const loaded = parseConfig(JSON.parse(read('deploy/config.json')), '/etc/ferry/config.json');
    const pidFile = configuredPidFile(loaded);
    assert.equal(pidFile, '/run/ferry/ferry.pid');
    const run = ops('RUN', runtime).map((i) => i.args);
    const setup = run.find((r) => /\buseradd\b/.test(r)) ?? '';
    assert.match(setup, /\bmkdir -p\b[^&]*\s\/run\/ferry\b/, 'creates /run/ferry');
    assert.match(setup, /\bchown ferry:ferry\b[^&]*\s\/run\/ferry\b/, 'owned by ferry');
    // The CMD gives no --pid-file: the config's pid_file is where start and every later command look.
    assert.ok(!execForm(ops('CMD', runtime)[0].args).includes('--pid-file'));
    assert.ok(run.includes('ln -s /opt/ferry/bin/ferry.js /usr/local/bin/ferry'), '`ferry` on the PATH');
    assert.equal(ops('WORKDIR', runtime).at(-1)?.args, '/opt/ferry', 'the symlink points into the WORKDIR');
    const useAt = DOCKERFILE.findIndex((i) => i.stage === runtime && i.op === 'USER');
    const runAt = DOCKERFILE.findIndex((i) => i.stage === runtime && i.op === 'RUN' && i.args.startsWith('ln -s'));
    assert.ok(runAt < useAt, 'linked as root');
  });

  it('keeps the build context to what the build copies (.dockerignore)', () => {
    const rules = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    assert.equal(rules[0], '*', 'everything is ignored unless listed');
    const included = new Set(rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/$/, '')));
    const sources = DOCKERFILE.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
      .map((s) => s.replace(/\/$/, ''));
    for (const s of sources) {
      assert.ok(included.has(s), `${s} is in the build context`);
      assert.ok(existsSync(join(ROOT, s)), `${s} exists`);
    }
    for (const secret of ['config.json', 'data', 'node_modules', 'dist', 'test']) assert.ok(!included.has(secret), `${secret} stays out`);
  });

  describe('HEALTHCHECK', () => {
    let t: TestApp;
    let url: string;
    before(async () => {
      t = await testApp();
      const at = await t.app.listen({ host: '127.0.0.1', port: 0 });
      url = `${at}/healthz`;
    });
    after(() => t.close());

    const check = ops('HEALTHCHECK', runtime)[0]?.args ?? '';
    const probe = (env: Record<string, string>) =>
      new Promise<number | null>((resolve) => {
        const argv = execForm(check.slice(check.indexOf('CMD ') + 4));
        assert.equal(argv[0], 'node');
        const child = spawn(process.execPath, argv.slice(1), { env: { ...process.env, ...env }, stdio: 'ignore' });
        child.on('exit', (code) => resolve(code));
      });

    it('defaults to the default signaling port', () => {
      assert.match(check, /^--interval=\S+ .*CMD \[/);
      const env = ops('ENV', runtime).map((i) => i.args).join(' ');
      const m = /FERRY_HEALTHZ_URL=(\S+)/.exec(env);
      assert.ok(m, 'ENV FERRY_HEALTHZ_URL');
      assert.equal(m[1], `http://127.0.0.1:${parseConfig({}, null).signalingListen.port}/healthz`);
    });

    it('succeeds against a live /healthz and fails when nothing answers', async () => {
      assert.equal(await probe({ FERRY_HEALTHZ_URL: url }), 0);
      assert.equal(await probe({ FERRY_HEALTHZ_URL: url.replace('/healthz', '/nope') }), 1, '404 is unhealthy');
      assert.equal(await probe({ FERRY_HEALTHZ_URL: 'http://127.0.0.1:1/healthz' }), 1, 'connection refused is unhealthy');
    });
  });
});

describe('deploy/ferry.service', () => {
  const text = read('deploy/ferry.service');
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) sections.set(section[1], (current = new Map()));
    else {
      const eq = line.indexOf('=');
      assert.ok(current && eq > 0, `key=value inside a section: ${line}`);
      current.set(line.slice(0, eq), line.slice(eq + 1));
    }
  }
  const service = sections.get('Service') ?? new Map<string, string>();

  it('runs ferry start --fg as the user ferry and reloads with ferry reload (checked, all or nothing)', () => {
    assert.ok(sections.has('Unit') && sections.has('Install'));
    assert.equal(service.get('Type'), 'simple');
    assert.equal(service.get('ExecStart'), '/usr/bin/node /opt/ferry/bin/ferry.js start --fg --config /etc/ferry/config.json');
    assert.equal(service.get('ExecReload'), '/usr/bin/node /opt/ferry/bin/ferry.js reload --config /etc/ferry/config.json');
    assert.equal(service.get('User'), 'ferry');
    assert.equal(service.get('LimitNOFILE'), '1048576');
    assert.equal(service.get('AmbientCapabilities'), '', 'no capability: every default port is above 1023');
  });

  it('keeps the pid file of deploy/config.json in its RuntimeDirectory, readable by the operator', () => {
    // No --pid-file on ExecStart/ExecReload: the config's pid_file, which every `ferry ... --config` finds too.
    assert.doesNotMatch(service.get('ExecStart') ?? '', /--pid-file/);
    const pidFile = configuredPidFile(parseConfig(JSON.parse(read('deploy/config.json')), '/etc/ferry/config.json'));
    assert.equal(pidFile, `/run/${service.get('RuntimeDirectory')}/ferry.pid`);
    assert.equal(service.get('RuntimeDirectoryMode'), '0755');
    assert.match(text, /"pid_file": "\/run\/ferry\/ferry\.pid"/, 'the header says to set it');
  });

  it('is hardened, writing only to /var/lib/ferry (and its RuntimeDirectory)', () => {
    assert.equal(service.get('NoNewPrivileges'), 'true');
    assert.equal(service.get('ProtectSystem'), 'strict');
    assert.equal(service.get('ReadWritePaths'), '/var/lib/ferry');
    assert.equal(service.get('PrivateTmp'), 'true');
  });

  it('passes systemd-analyze verify', () => {
    const r = spawnSync('systemd-analyze', ['verify', join(ROOT, 'deploy/ferry.service')], { encoding: 'utf8' });
    assert.ifError(r.error); // systemd-analyze comes with Debian's systemd (scripts/setup.sh)
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warnings');
  });
});

describe('deploy/nginx.conf', () => {
  const text = read('deploy/nginx.conf');

  it('proxies the API and the signaling WebSocket (with upgrade headers) to 127.0.0.1:8080 over TLS', () => {
    assert.match(text, /server 127\.0\.0\.1:8080;/);
    assert.match(text, /listen 443 ssl;/);
    const ws = /location = \/v1\/signal \{([^}]*)\}/.exec(text);
    assert.ok(ws, 'a location for /v1/signal');
    assert.match(ws[1], /proxy_set_header Upgrade \$http_upgrade;/);
    assert.match(ws[1], /proxy_set_header Connection \$ferry_connection_upgrade;/);
    assert.match(ws[1], /proxy_read_timeout \d+s;/);
    assert.match(text, /proxy_http_version 1\.1;/);
    assert.match(text, /access_log \S+ ferry_no_query;/, 'tokens in query strings stay out of the access log');
    assert.doesNotMatch(/log_format ferry_no_query[^;]*;/.exec(text)?.[0] ?? '', /\$request\b|\$args|\$request_uri|\$query_string/);
  });

  const hasNginx = !spawnSync('nginx', ['-v']).error;

  /** deploy/nginx.conf with a test certificate, logs in `dir`, and optionally other ports. */
  function siteFor(dir: string, cert: TestCert, ports?: { https: number; http: number; upstream: number }): string {
    let site = text
      .replace(/\/etc\/letsencrypt\/live\/turn\.example\.org\/fullchain\.pem/g, cert.certPath)
      .replace(/\/etc\/letsencrypt\/live\/turn\.example\.org\/privkey\.pem/g, cert.keyPath)
      .replace(/\/var\/log\/nginx\//g, `${dir}/`);
    if (ports) {
      site = site
        .replace(/listen 443 ssl;/, `listen 127.0.0.1:${ports.https} ssl;`)
        .replace(/listen 80;/, `listen 127.0.0.1:${ports.http};`)
        .replace(/\s*listen \[::\]:\d+( ssl)?;/g, '')
        .replace(/server 127\.0\.0\.1:8080;/, `server 127.0.0.1:${ports.upstream};`);
    }
    assert.notEqual(site, text);
    return site;
  }

  function writeNginxConf(dir: string, site: string, extra = ''): string {
    writeFileSync(join(dir, 'ferry.conf'), site);
    const conf = join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      `${extra}pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  access_log ${dir}/access.log;\n` +
        `  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  include ${dir}/ferry.conf;\n}\n`,
    );
    return conf;
  }

  it('passes nginx -t', () => {
    assert.ok(hasNginx, 'nginx is not installed: scripts/setup.sh installs nginx-light');
    const dir = mkdtempSync(join(tmpdir(), 'ferry-nginx-'));
    const cert = makeSelfSignedCert('turn.example.org');
    try {
      const conf = writeNginxConf(dir, siteFor(dir, cert));
      const r = spawnSync('nginx', ['-t', '-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /test is successful/);
    } finally {
      cert.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('proxying a live signaling app through nginx', () => {
    let t: TestApp;
    let nginx: ChildProcess | undefined;
    let dir: string;
    let cert: TestCert;
    let httpsPort: number;
    let apiKey: string;
    let exited = false;

    before(async () => {
      t = await testApp();
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const upstream = (t.app.server.address() as { port: number }).port;
      const created = await t.request({ method: 'POST', url: '/v1/accounts', payload: { name: 'via-nginx' } });
      apiKey = (created.json() as { api_key: string }).api_key;
      dir = mkdtempSync(join(tmpdir(), 'ferry-nginx-'));
      cert = makeSelfSignedCert('turn.example.org');
      httpsPort = await freePort();
      const http = await freePort();
      const conf = writeNginxConf(dir, siteFor(dir, cert, { https: httpsPort, http, upstream }), 'daemon off;\nmaster_process off;\n');
      nginx = spawn('nginx', ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
      nginx.on('exit', () => (exited = true));
      await until(() => exited || existsSync(join(dir, 'nginx.pid')), 5000, 'nginx starts');
      assert.ok(!exited, `nginx exited: ${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`);
    });
    after(async () => {
      if (nginx && !exited) {
        nginx.kill('SIGTERM');
        await until(() => exited, 5000, 'nginx stops').catch(() => nginx?.kill('SIGKILL'));
      }
      cert.remove();
      rmSync(dir, { recursive: true, force: true });
      await t.close();
    });

    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(
          { host: '127.0.0.1', port: httpsPort, path, servername: 'turn.example.org', headers: { host: 'turn.example.org' }, rejectUnauthorized: false },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });

    it('serves /healthz over HTTPS', async () => {
      const res = await get('/healthz');
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(JSON.parse(res.body), { status: 'ok' });
    });

    it('upgrades /v1/signal to a WebSocket and keeps the token out of its access log', async () => {
      const token = 'st_not-a-real-token-but-must-not-be-logged';
      const ws = new WebSocket(`wss://127.0.0.1:${httpsPort}/v1/signal?peer_id=p1`, {
        rejectUnauthorized: false,
        headers: { authorization: `Bearer ${apiKey}` },
      });
      await withTimeout(new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); }), 5000, 'WebSocket open through nginx');
      ws.close();
      await withTimeout(new Promise<void>((resolve) => ws.once('close', () => resolve())), 5000, 'WebSocket closes');
      // A refused token in the URL: the upgrade is answered 401 and the query stays out of the log.
      const refused = new WebSocket(`wss://127.0.0.1:${httpsPort}/v1/signal?peer_id=p2&token=${token}`, { rejectUnauthorized: false });
      const status = await withTimeout(
        new Promise<number>((resolve) => {
          refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          refused.once('open', () => resolve(101));
          refused.once('error', () => resolve(-1));
        }),
        5000,
        'refused upgrade',
      );
      refused.terminate();
      assert.equal(status, 401);
      const log = readFileSync(join(dir, 'ferry.access.log'), 'utf8');
      assert.match(log, /GET \/v1\/signal HTTP\/1\.1" 101 /);
      assert.ok(!log.includes(token), 'no token in the access log');
    });
  });
});
