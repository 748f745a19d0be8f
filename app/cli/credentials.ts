/**
 * `ferry credentials ACCOUNT`: mints TURN credentials locally with the config's first auth secret,
 * for an account found in the configured store (by id or name), whether or not Ferry runs: the
 * credentials are an HMAC any Ferry with that secret accepts, so no admin API is needed.
 */
import { networkInterfaces } from 'node:os';
import { findAccountRef } from '../../src/accounts/names.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { CredentialError } from '../../src/credentials/errors.js';
import { IceServerIssuer } from '../../src/credentials/ice-servers.js';
import { describeTtlRange, ICE_TTL, parseTtl, TtlError } from '../../src/credentials/ttl.js';
import { chooseRelayIps } from '../relay-options.js';
import { withAccounts } from './account-access.js';
import { configPath, EXIT_FAILURE, EXIT_OK, loadOrReport, parseCommand, str, usageError, type CliIo } from './common.js';

const CONFIG_OPTION = `  -c, --config FILE    the config file naming the store (default: ./config.json
                       when it exists, else data/ferry.db in the working directory)
  -h, --help           show this help
`;

export const CREDENTIALS_USAGE = `Usage: ferry credentials ACCOUNT [--ttl 1h] [--config FILE]

Mints TURN credentials for ACCOUNT (an account id or name) locally, with the
config's first auth secret, and prints {"iceServers": [...], "expires_at": ...}
as JSON, ready for new RTCPeerConnection(...). The URLs use signaling.public_host,
else the TURN listening address (its external or relay address when it listens
on every interface).

Options:
  --ttl TTL            lifetime of the credentials: seconds (3600) or a duration
                       (90s, 15m, 1h); ${describeTtlRange(ICE_TTL)}; default 1h
${CONFIG_OPTION}`;

/** The host put in the TURN URLs: public_host, else the listening address, else an address of this machine. */
function turnHost(loaded: LoadedConfig): string {
  const { public_host: publicHost } = loaded.config.signaling;
  if (publicHost !== undefined) return publicHost;
  const external = loaded.config.external_ip;
  const ext = typeof external === 'string' ? external : external?.[0];
  if (ext !== undefined) return ext;
  const relay = chooseRelayIps(loaded, networkInterfaces());
  const host = loaded.listen.host;
  if (host !== '0.0.0.0' && host !== '::') return host;
  return relay.ips4[0] ?? relay.ips6[0] ?? '127.0.0.1';
}

export async function credentialsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseCommand(io, args, CREDENTIALS_USAGE, { config: { type: 'string', short: 'c' }, ttl: { type: 'string' } }, { min: 1, max: 1 });
  if (!p.ok) return p.code;
  let ttlSeconds = ICE_TTL.default;
  const ttlArg = str(p.values.ttl);
  if (ttlArg !== undefined) {
    // The same forms and range as POST /v1/ice-servers's ttl (src/credentials/ttl.ts).
    try {
      ttlSeconds = parseTtl(ttlArg, ICE_TTL);
    } catch (err) {
      if (!(err instanceof TtlError)) throw err;
      return usageError(io, `--ttl: ${err.message}`, CREDENTIALS_USAGE);
    }
  }
  const loaded = await loadOrReport(io, configPath(str(p.values.config)));
  if (loaded === null) return EXIT_FAILURE;
  const secret = loaded.config.auth_secrets[0];
  if (secret === undefined) {
    io.stderr('ferry: no auth_secrets in the config: cannot mint TURN credentials\n');
    return EXIT_FAILURE;
  }
  const found = findAccountRef(await withAccounts(loaded, (a) => a.listAccounts()), p.positionals[0]);
  if (typeof found === 'string') {
    io.stderr(`ferry: ${found}\n`);
    return EXIT_FAILURE;
  }
  if (found.disabled) {
    io.stderr(`ferry: account ${found.id} is disabled: Ferry would refuse its credentials\n`);
    return EXIT_FAILURE;
  }
  const issuer = new IceServerIssuer({
    secret: () => secret,
    turnPort: loaded.listen.port,
    ...(loaded.tlsListen ? { tlsPort: loaded.tlsListen.port } : {}),
    now: Date.now,
  });
  try {
    io.stdout(`${JSON.stringify(issuer.issue(found.id, ttlSeconds, turnHost(loaded)), null, 2)}\n`);
  } catch (err) {
    if (!(err instanceof CredentialError)) throw err;
    io.stderr(`ferry: ${err.message}\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

