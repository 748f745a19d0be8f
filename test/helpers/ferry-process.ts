// Runs Ferry as a real process (`node bin/ferry.js start --fg --config FILE`) on free ports with its
// own relay port block, waits until it answers a STUN Binding over UDP, and always kills it afterwards
// (stop() from the file's after() hook; the reaper on process exit or SIGINT/SIGTERM; guard.js when
// the test process dies without running any handler).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintRestCredential } from '../../src/credentials/rest.js';
import { freePort, reservePortRange } from './ports.js';
import { exited, killNow, spawnGuarded, terminate } from './reaper.js';
import { waitForStun } from './stun-ping.js';
import { makeSelfSignedCert } from './tls-cert.js';
import { requestedDataPlane } from './data-plane.js';
import { until } from './wait.js';

interface FerryConfig {
  address: string;
  tls_address?: string;
  tls?: { cert: string; key: string };
  realm: string;
  relay_ip: string;
  relay_ports: string;
  users: Record<string, string>;
  auth_secrets: string[];
  peers?: { allow?: string[]; deny?: string[] };
  signaling?: { address?: string; [key: string]: unknown };
  storage?: string;
  log_level: string;
  [key: string]: unknown;
}

interface StartOptions {
  /** Generate a self-signed certificate and open a TLS listener on a free port. */
  readonly tls?: boolean;
  /** Run bin/ferry.js of this copy of the package (default: the repository). */
  readonly root?: string;
}

export interface FerryProcess {
  readonly udpPort: number;
  readonly tcpPort: number;
  readonly tlsPort?: number;
  readonly config: FerryConfig;
  /** True while the server process is alive. */
  running(): boolean;
  /**
   * Sends `signal` to the server (SIGHUP: reload its config), once, through the guard. SIGKILL goes
   * to the whole process group at once (the guard cannot forward it): the server dies as by kill -9.
   */
  signal(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
  logs(): string;
}

/** Credentials in every test config. Loopback peers stay refused unless `peers: LOOPBACK_PEERS`. */
export const TEST_USER = 'alice';
export const TEST_PASSWORD = 'alice-pass-1';
export const TEST_SECRET = 'ferry-interop-rest-secret-0123';
export const LOOPBACK_PEERS = { allow: ['127.0.0.0/8'] };

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/helpers → root

export async function startFerryProcess(overrides: Partial<FerryConfig> = {}, opts: StartOptions = {}): Promise<FerryProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-interop-'));
  const port = await freePort();
  const range = await reservePortRange();
  let tlsPort: number | undefined;
  const config: FerryConfig = {
    address: `127.0.0.1:${port}`,
    realm: 'ferry.test',
    relay_ip: '127.0.0.1',
    relay_ports: `${range.lo}-${range.hi}`,
    users: { [TEST_USER]: TEST_PASSWORD },
    auth_secrets: [TEST_SECRET],
    log_level: 'debug',
    signaling: { address: '127.0.0.1:0' }, // any free port: the default 0.0.0.0:8080 collides
    storage: 'sqlite::memory:',
    // The plane FERRY_TEST_DATA_PLANE asks for (scripts/test-runtimes.js); unset: "auto".
    ...(requestedDataPlane() !== undefined ? { data_plane: requestedDataPlane() } : {}),
    ...overrides,
  };
  let cert: ReturnType<typeof makeSelfSignedCert> | undefined;
  if (opts.tls) {
    cert = makeSelfSignedCert();
    tlsPort = await freePort();
    config.tls_address = `127.0.0.1:${tlsPort}`;
    config.tls = { cert: cert.certPath, key: cert.keyPath };
  } else if (config.tls_address) {
    tlsPort = Number(config.tls_address.split(':')[1]);
  }
  const configPath = join(dir, 'ferry.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));

  const root = opts.root ?? REPO_ROOT;
  const bin = join(root, 'bin', 'ferry.js');
  if (!existsSync(bin)) throw new Error(`startFerryProcess: ${bin} does not exist`);
  const child = spawnGuarded(process.execPath, [bin, 'start', '--fg', '--config', configPath], root);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
  let spawnError: Error | undefined;
  child.once('error', (err) => { spawnError = err; });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= terminate(child, 5000, { leaderOnly: true }).then(() => {
      range.release();
      cert?.remove();
      rmSync(dir, { recursive: true, force: true });
    });
    return stopped;
  };
  const handle: FerryProcess = {
    udpPort: port,
    tcpPort: port,
    tlsPort,
    config,
    running: () => !exited(child),
    signal: (signal) => {
      if (signal === 'SIGKILL') killNow(child);
      else child.kill(signal);
    },
    stop,
    logs: () => out,
  };
  try {
    await waitForStun(port, 10_000, '127.0.0.1', () => {
      if (spawnError) return `server failed to spawn: ${spawnError.message}`;
      if (exited(child)) return `server exited early (code ${child.exitCode}, signal ${child.signalCode}):\n${out.slice(-4000)}`;
      return undefined;
    });
  } catch (err) {
    await stop();
    throw new Error(`startFerryProcess: ${(err as Error).message}\n--- server output ---\n${out.slice(-4000)}`);
  }
  return handle;
}

/** TURN REST credentials: username `<unix-expiry>:<account>`, password base64(HMAC-SHA1(secret, username)). */
export function restCredentials(secret: string, account: string, ttlSeconds = 3600): { username: string; password: string } {
  const { username, password } = mintRestCredential(secret, account, ttlSeconds, Date.now());
  return { username, password };
}

/** The port the process logged its signaling service on ("signaling on http://127.0.0.1:P"), within 5 s. */
export async function signalingPort(handle: Pick<FerryProcess, 'logs'>, what = 'signaling port in the log'): Promise<number> {
  let port = 0;
  await until(() => (port = Number(/signaling on http:\/\/127\.0\.0\.1:(\d+)/.exec(handle.logs())?.[1] ?? 0)) > 0, 5000, what);
  return port;
}
