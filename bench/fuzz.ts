// Fuzzes a real Ferry process (bench/lib/fuzz-run.ts) and prints ONE JSON document on stdout
// (progress on stderr). Usage: npm run -s bench:fuzz -- [--inputs 1000000] [--seconds 1800]
// [--seed N] [--allocations 8] [--no-ipv6] [--ferry-config '{...}'] [--keep-tmp] (see bench/README.md).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCleanup, registerTempDir } from './lib/children.js';
import { benchLog, flag, jsonArg, positiveArg } from './lib/options.js';
import { groupRssKb, udpDropsByPort } from './lib/procfs.js';
import { startFerry } from './lib/servers.js';
import { runFuzz } from './lib/fuzz-run.js';
import { liftPerIpLimits } from './lib/per-ip-limits.js';
import { freePort, reserveRelayRange } from '../test/helpers/ports.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = benchLog('fuzz');
const positive = (name: string, fallback: number): number => positiveArg(name, fallback, true, log);
const ferryConfig = (): Record<string, unknown> => jsonArg('ferry-config', log);

const opts = {
  inputs: positive('inputs', 1_000_000),
  seconds: positive('seconds', 1800),
  seed: positive('seed', 0xf022),
  allocations: positive('allocations', 8),
};
/** The echo peers' addresses: the only peers Ferry's config admits (besides its own relay addresses). */
const PEER_HOST = '127.77.0.1';
const PEER_HOST6 = '::1';

async function main(): Promise<number> {
  installCleanup((opts.seconds + 120) * 1000, log);
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-fuzz-'));
  if (!flag('keep-tmp')) registerTempDir(tmp);
  const port = await freePort();
  const relay = await reserveRelayRange(400);
  const v6 = !flag('no-ipv6');
  const extra = v6
    ? { relay_ip: ['127.0.0.1', '::1'], peers: { allow: [`${PEER_HOST}/32`, `${PEER_HOST6}/128`] }, ...liftPerIpLimits(), ...ferryConfig() }
    : { peers: { allow: [`${PEER_HOST}/32`] }, ...liftPerIpLimits(), ...ferryConfig() };
  const ferry = await startFerry(REPO_ROOT, port, relay, tmp, 10_000, extra);
  const dropsBefore = udpDropsByPort().get(port) ?? 0;
  log(`ferry pid ${ferry.child.pid} on 127.0.0.1:${port}, relay ${relay.lo}-${relay.hi}`);
  try {
    const report = await runFuzz(
      {
        host: '127.0.0.1',
        port,
        username: 'u',
        password: 'p',
        peerHost: PEER_HOST,
        peerHost6: v6 ? PEER_HOST6 : undefined,
        alive: () => !ferry.child.hasExited(),
        rssKb: () => (ferry.child.hasExited() ? null : groupRssKb(ferry.child.pid)),
        output: () => readFileSync(join(tmp, 'ferry.log'), 'utf8'),
      },
      { ...opts, log },
    );
    const ok = report.alive && report.answers_to_garbage === 0 && report.binding_ok && report.fresh_allocate_ok && report.output.exception_lines === 0;
    const out = {
      bench: 'fuzz',
      ok,
      options: { ...opts, ipv6: v6 },
      server: { command: ferry.command, exit: ferry.child.exitStatus() || 'running', kernel_drops_on_listen_port: (udpDropsByPort().get(port) ?? 0) - dropsBefore },
      ...report,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return ok ? 0 : 1;
  } finally {
    await ferry.stop();
    relay.release();
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  log(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
