/** `ferry init`: a starting config.json with fresh secrets, a self-signed TLS certificate and a data directory. */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { ConfigSchema, unwrapSchema } from '../../src/config/schema.js';
import { EXIT_FAILURE, EXIT_OK, parseCommand, str, type CliIo } from './common.js';
import { randomToken } from './dev-setup.js';

export const INIT_USAGE = `Usage: ferry init [--dir DIR] [--force]

Writes DIR/config.json (mode 0600) with a fresh auth secret and admin token,
TURN over TLS on 0.0.0.0:5349 with a self-signed certificate made by openssl
(DIR/tls/cert.pem, DIR/tls/key.pem, valid 365 days), and the accounts database
in DIR/data/ferry.db. Refuses (exit 1) to overwrite an existing config.json
unless --force is given.

Options:
  --dir DIR    where to write (default: the working directory)
  --force      overwrite an existing config.json (and certificate)
  -h, --help   show this help
`;

/** The first sentence of a key's description in the schema (docs/configuration.md has the rest). */
function describeKey(path: readonly string[]): string {
  let node: unknown = ConfigSchema;
  let described: { description?: string } | undefined;
  for (const part of path) {
    const shape = unwrapSchema(node).def.shape;
    described = shape?.[part] as { description?: string } | undefined;
    if (described === undefined) return '';
    node = described;
  }
  const text = described?.description ?? '';
  const end = text.search(/\.(\s+(?=[A-Z])|$)/);
  return end < 0 ? text : text.slice(0, end + 1);
}

export async function initCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseCommand(io, args, INIT_USAGE, { dir: { type: 'string' }, force: { type: 'boolean' } });
  if (!p.ok) return p.code;
  const dir = resolve(str(p.values.dir) ?? '.');
  const file = join(dir, 'config.json');
  if (existsSync(file) && p.values.force !== true) {
    io.stderr(`ferry: ${file} exists; not overwriting it (use --force to replace it)\n`);
    return EXIT_FAILURE;
  }
  const tlsDir = join(dir, 'tls');
  const dataDir = join(dir, 'data');
  const cert = join(tlsDir, 'cert.pem');
  const key = join(tlsDir, 'key.pem');
  mkdirSync(tlsDir, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  const cn = hostname() || 'localhost';
  try {
    rmSync(key, { force: true });
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '365',
        '-subj', `/CN=${cn}`, '-keyout', key, '-out', cert,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 },
    );
    chmodSync(key, 0o600);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = e.code === 'ENOENT' ? 'openssl is not installed' : (e.stderr?.toString().trim() || e.message);
    io.stderr(`ferry: cannot make the TLS certificate: ${why}\n`);
    return EXIT_FAILURE;
  }

  const config = {
    address: '0.0.0.0:3478',
    tls_address: '0.0.0.0:5349',
    tls: { cert: 'tls/cert.pem', key: 'tls/key.pem' },
    realm: 'ferry',
    auth_secrets: [randomToken(32)],
    signaling: { address: '0.0.0.0:8080', admin_token: randomToken(32) },
    storage: 'sqlite:data/ferry.db',
    log_level: 'info',
  };
  parseConfig(config, file); // what we write must be valid; throws (a bug) otherwise
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);

  const keys: string[][] = [];
  for (const [k, v] of Object.entries(config)) {
    if (typeof v === 'object' && !Array.isArray(v)) for (const sub of Object.keys(v)) keys.push([k, sub]);
    else keys.push([k]);
  }
  const width = Math.max(...keys.map((k) => k.join('.').length));
  io.stdout(
    [
      `wrote ${file} (mode 0600): a fresh auth secret and admin token`,
      `wrote ${cert} and ${key} (mode 0600): self-signed certificate for CN=${cn}, valid 365 days`,
      `created ${dataDir}/ (accounts database data/ferry.db, pid file, log)`,
      '',
      'The keys written (each documented in docs/configuration.md, with its default):',
      ...keys.map((k) => `  ${k.join('.').padEnd(width)}  ${describeKey(k)}`),
      '',
      'Check it, then start Ferry:',
      `  ferry config check ${file}`,
      `  ferry start --config ${file}`,
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}
