/**
 * The one schema of Ferry's config file: it validates, fills in defaults, gives the TypeScript
 * type and documents every key (the table of docs/configuration.md is generated from it by
 * scripts/config-table.js). Objects are strict so a misspelt key is an error, not a silent default.
 */
import { z } from 'zod';
import { isApiKeyShape } from '../accounts/keys.js';
import { parseDuration, parseIntervalOrOff, parsePercent, parseSize, parseTimeframe, UnitError } from './units.js';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/outbox.js';
import { originProblem } from './origin.js';
import { DataPlaneSchema, RelayThreadsSchema } from './data-plane.js';
import { ClusterSchema, publicHost, StorageSchema } from './cluster.js';
import { RateLimitsSchema } from './rate-limits.js';
import { cidrProblem, ipFamily, isUnspecifiedIp, NetSyntaxError, parseHostPort, parsePortRange } from './net.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A string checked by one of net.ts's parsers; the parser's message becomes the issue. */
function syntax(expected: string, parse: (s: string) => unknown) {
  return z.string({ error: `expected ${expected}` }).superRefine((value, ctx) => {
    try {
      parse(value);
    } catch (err) {
      if (!(err instanceof NetSyntaxError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
  });
}

const hostPort = () => syntax('a string "host:port"', parseHostPort);
/** Like hostPort, but port 0 ("any free port") is accepted. */
const hostPortOrAny = () => syntax('a string "host:port"', (s) => parseHostPort(s, 0));

/**
 * One entry of signaling.cors_origins: a serialized origin, compared as a string with the Origin
 * header, so it must be written exactly as browsers send it; "*" (every origin) is checked by the list.
 */
const corsOrigin = z.string({ error: 'expected an origin string such as "https://app.example.com"' }).superRefine((s, ctx) => {
  const problem = originProblem(s);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

const SignalingSchema = z
  .strictObject({
    address: hostPortOrAny()
      .default('0.0.0.0:8080')
      .describe('Where the signaling service (HTTP API and WebSocket) listens: "host:port" with an IP as host, IPv6 in brackets. Port 0 takes a free port (logged at start).'),
    admin_token: z
      .string({ error: 'expected a string' })
      .min(16, { error: 'must be at least 16 characters' })
      .refine((s) => !isApiKeyShape(s), { error: 'must not have the shape of an API key (fk_ + 43 characters): such a token is taken for an API key' })
      .optional()
      .describe('Bearer token of the admin API (/v1/accounts...), at least 16 characters, not shaped like an API key (fk_...). Not set: the admin API is disabled and answers 503.'),
    public_host: publicHost
      .optional()
      .describe('Host name or IP put in the TURN URLs that /v1/ice-servers hands out (e.g. turn.example.org). Default: the host of the request\'s Host header.'),
    cors_origins: z
      .array(corsOrigin, { error: 'expected a list of origins such as ["https://app.example.com"]' })
      .superRefine((list, ctx) => {
        if (list.includes('*') && list.length > 1) ctx.addIssue({ code: 'custom', message: '"*" allows every origin: give it alone, ["*"]' });
        const twice = list.find((o, i) => list.indexOf(o) !== i);
        if (twice !== undefined) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(twice)} is listed twice` });
      })
      .default([])
      .describe('Origins of the browser apps allowed to call Ferry from their own pages, each "scheme://host[:port]" exactly as browsers send it in Origin (http or https, lowercase, no default port, no path or trailing slash), e.g. ["https://app.example.com", "http://localhost:5173"]. They get CORS answers (preflight included) on POST /v1/ice-servers, POST /v1/signal-tokens and GET /sdk/*, and the signaling WebSocket refuses (403) an upgrade whose Origin is not listed; clients that send no Origin (servers, native apps) are not affected. ["*"] allows every origin: these routes take their credentials from the Authorization header or the URL, never from cookies, so no other site can act with a user\'s credentials. The admin API, /v1/usage and /metrics never get CORS. Empty (the default): no CORS, and the WebSocket does not check Origin. A reload applies changes.'),
  }, { error: 'expected an object {"address": "host:port", "admin_token": "...", "public_host": "...", "cors_origins": [...]}' })
  .prefault({})
  .describe('The signaling service: accounts and credentials over HTTP, signaling over WebSocket, the demo page.');

const specificIp = z
  .string({ error: 'expected an IP address' })
  .refine((s) => ipFamily(s) !== 0, { error: (iss) => `${JSON.stringify(iss.input)} is not an IP address` })
  .refine((s) => !isUnspecifiedIp(s), { error: 'must be a specific address, not 0.0.0.0 or ::' });

const ipOrList = () =>
  z.union([specificIp, z.array(specificIp).min(1, { error: 'must not be an empty list' })], {
    error: 'expected an IP address or a list of IP addresses',
  });

const cidr = z
  .string({ error: 'expected a CIDR block such as 10.0.0.0/8' })
  .superRefine((s, ctx) => {
    const problem = cidrProblem(s);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  });

const positiveInt = (def: number, description: string) =>
  z
    .int({ error: 'expected a positive integer' })
    .positive({ error: 'expected a positive integer' })
    .default(def)
    .describe(description);

const TlsSchema = z
  .strictObject({
    cert: z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' })
      .describe('Path of the PEM certificate (chain) served on tls_address; relative paths start at the config file\'s directory.'),
    key: z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' })
      .describe('Path of the PEM private key of that certificate.'),
  }, { error: 'expected an object {"cert": "<file>", "key": "<file>"}' })
  .optional()
  .describe('Certificate and key files for TURN over TLS; required when tls_address is set.');

const PeersSchema = z
  .strictObject({
    allow: z.array(cidr, { error: 'expected a list of CIDR blocks' }).default([])
      .describe('CIDR blocks (or single IPs) opened despite the built-in deny list of special-purpose ranges, e.g. 127.0.0.0/8 for local tests. The relay\'s own addresses stay refused unless an entry other than 0.0.0.0/0 or ::/0 covers them; its relay addresses are open without one, but only toward the relayed ports of live allocations (relay to relay). 0.0.0.0/8 and :: are never opened.'),
    deny: z.array(cidr, { error: 'expected a list of CIDR blocks' }).default([])
      .describe('CIDR blocks (or single IPs) always refused, on top of the built-in deny list; deny wins over allow.'),
  }, { error: 'expected an object {"allow": [...], "deny": [...]}' })
  .prefault({})
  .describe('Which peer addresses allocations may relay to (CreatePermission, ChannelBind).');

const QuotasSchema = z
  .strictObject({
    allocations_per_user: positiveInt(100, 'Allocations one user (account) may hold at once; further Allocate requests are refused.'),
    total_allocations: positiveInt(10000, 'Allocations the relay holds at once across all users; further Allocate requests are refused.'),
    permissions_per_allocation: positiveInt(100, 'Peer permissions one allocation may install.'),
    channels_per_allocation: positiveInt(100, 'Channels one allocation may bind.'),
    max_bps: unitValue(z.union([z.string(), z.number()], { error: 'expected bytes per second: a number or a size such as "500KB"' }), parseSize)
      .default(0)
      .describe('Bandwidth cap of each allocation, in bytes of relayed payload per second, each direction on its own (as coturn\'s max-bps): a number or a size such as "500KB". Bursts of up to one second\'s worth pass; the excess is dropped and counted. 0: no cap. Accounts can have a shared cap too (max_bps in the admin API).'),
    connections_per_ip: positiveInt(1000, 'TCP and TLS connections one client may hold at once: one IPv4 address, or one IPv6 /64 (a host usually has a whole /64). Counted at accept, before the TLS handshake; past it a new connection is closed at once (ferry_connections_refused_total{reason="per-ip"}). 1000, a tenth of total_connections, so one address cannot take the relay\'s connections, while an office or carrier NAT with hundreds of TURN/TCP users behind one address (a connection or two per call each) stays under it.'),
    total_connections: positiveInt(10000, 'TCP and TLS connections the relay holds at once, all clients and listeners together; past it a new connection is closed at once (reason="total"). Each is a file descriptor, and a TCP allocation holds a relayed socket too: keep total_connections plus total_allocations under the process\'s open-file limit (ulimit -Hn; Node raises the soft limit to it), so descriptors never run out and Allocates never fail for lack of them. 10000 matches total_allocations: every allocation could be over TCP or TLS.'),
    allocate_timeout: unitValue(z.string({ error: 'expected a duration such as 30s' }), (v: string) => {
      const ms = parseDuration(v);
      if (ms < 1000) throw new UnitError(`must be at least 1s; got ${JSON.stringify(v)}`);
      return ms;
    })
      .default('30s')
      .describe('A TCP or TLS connection must hold an allocation within this long from accept (handshake included), and again from the end of its allocation, or it is closed. An absolute deadline: traffic does not extend it, so a client trickling bytes cannot hold a connection. 30s leaves a slow client many round trips for the handshake and the 401 exchange. At least 1s.'),
  }, { error: 'expected an object of positive integers, max_bps and allocate_timeout' })
  .prefault({})
  .describe('Limits that protect the relay from one client or from overload.');

/** A value checked by one of units.ts's parsers and kept as written (src/metering/settings.ts converts it). */
function unitValue<T extends z.ZodType<string | number>>(base: T, parse: (v: never) => unknown) {
  return base.superRefine((value, ctx) => {
    try {
      parse(value as never);
    } catch (err) {
      if (!(err instanceof UnitError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
  });
}
const duration = (minMs: number, min: string) =>
  unitValue(z.string({ error: 'expected a duration such as 10s or 30d' }), (v: string) => {
    const ms = parseDuration(v);
    if (ms < minMs) throw new UnitError(`must be at least ${min}; got ${JSON.stringify(v)}`);
    return ms;
  });
const percent = () => unitValue(z.string({ error: 'expected a percentage such as 90%' }), parsePercent);
const size = () => unitValue(z.union([z.string(), z.number()], { error: 'expected a size such as 500GB or 2TB' }), parseSize);

const NetworkUsageSchema = z
  .strictObject({
    timeframe: unitValue(z.string({ error: 'expected a duration such as 30d, or "month"' }), parseTimeframe)
      .default('30d')
      .describe('The usage timeframe that limits count in and the ledger archives: a length (e.g. 30d, at least 1m), fixed windows following each other from when metering first started, persisted in the store; or "month": calendar months in UTC, each from 00:00 UTC on the 1st to 00:00 UTC on the 1st of the next month (28 to 31 days), as billing systems bill. At a timeframe\'s end its totals are archived, limits lift and counting starts afresh. A change needs a restart (not applied on reload) and then applies to the current window, from its start (with "month", it ends at the next month boundary).'),
    write_interval: duration(100, '100ms')
      .default('10s')
      .describe('How often the counted bytes are written to the usage ledger (also on SIGUSR2 and on stop); a crash loses at most this much.'),
    archive_dir: z
      .string({ error: 'expected a directory path' })
      .min(1, { error: 'must not be empty' })
      .optional()
      .describe('Directory where each closed timeframe\'s totals are written as a JSON file; relative paths start at the config file\'s directory. Not set: closed timeframes are kept in the store only.'),
    global_limit: size()
      .optional()
      .describe('Relayed bytes allowed per timeframe across all accounts (e.g. 2TB). At soft_limit of it new allocations are refused, at hard_limit the live ones are closed too, until the timeframe ends. Not set: no global limit.'),
    soft_limit: percent()
      .default('90%')
      .describe('Share of global_limit (and of an account\'s limit) from which new allocations and /v1/ice-servers are refused (usage.soft_limit).'),
    hard_limit: percent()
      .default('93%')
      .describe('Share of global_limit (and of an account\'s limit) from which the live allocations are closed as well (usage.hard_limit).'),
    report_interval: unitValue(z.string({ error: 'expected a duration such as 1h, or "0"' }), parseIntervalOrOff)
      .default('1h')
      .describe('How often a usage.report webhook event is sent per account with its timeframe usage; "0" disables the reports.'),
  }, { error: 'expected an object' })
  .refine(
    (nu) => {
      try {
        return parsePercent(nu.hard_limit) >= parsePercent(nu.soft_limit);
      } catch {
        return true; // a bad percentage is reported on its own key
      }
    },
    { path: ['hard_limit'], error: 'must be at least soft_limit' },
  )
  .prefault({})
  .describe('Metering: the usage ledger of relayed application payload bytes per account.');

const WEBHOOK_EVENTS = [...WEBHOOK_EVENT_TYPES, '*'] as const;
const WebhookSchema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
    .describe('Where events are POSTed (http or https).'),
  secret: z
    .string({ error: 'expected a string' })
    .min(16, { error: 'must be at least 16 characters' })
    .describe('Key of the Ferry-Signature HMAC-SHA256, at least 16 characters.'),
  events: z
    .array(z.enum(WEBHOOK_EVENTS, { error: `expected one of ${WEBHOOK_EVENTS.join(', ')}` }), { error: 'expected a list of event types' })
    .min(1, { error: 'must not be an empty list' })
    .describe(`Event types sent to this URL: ${WEBHOOK_EVENTS.map((e) => JSON.stringify(e)).join(', ')} (all).`),
}, { error: 'expected an object {"url": "...", "secret": "...", "events": [...]}' });
const WebhooksSchema = z
  .array(WebhookSchema, { error: 'expected a list of webhooks' })
  .refine((list) => new Set(list.map((w) => w.url)).size === list.length, { error: 'each url may appear once' })
  .default([])
  .describe('Webhooks: [{"url", "secret", "events"}]. Events are stored durably and delivered in order per URL, signed (Ferry-Signature), retried with backoff until a 2xx answer. A reload applies changes; the undelivered events of a removed URL stay stored, unsent, until it is configured again.');

const MetricsSchema = z
  .strictObject({
    token: z
      .string({ error: 'expected a string' })
      .min(16, { error: 'must be at least 16 characters' })
      .optional()
      .describe('Bearer token required by GET /metrics (Prometheus text) on the signaling address, at least 16 characters. Not set: /metrics answers without authentication.'),
  }, { error: 'expected an object {"token": "..."}' })
  .prefault({})
  .describe('The Prometheus metrics endpoint (GET /metrics on the signaling address).');

const NonceSchema = z
  .strictObject({
    secret: z
      .string({ error: 'expected a string' })
      .min(16, { error: 'must be at least 16 characters' })
      .optional()
      .describe('Key of the stateless nonces (an HMAC over the time of issue and the client\'s IP and port), at least 16 characters. Give every node of a fleet the same one so each accepts the others\' nonces. Not set: a random key per process. Changing it on reload makes the nonces issued so far stale (clients get 438 and retry once).'),
    lifetime: unitValue(z.string({ error: 'expected a duration such as 10m' }), (v: string) => {
      const ms = parseDuration(v);
      if (ms < 10_000 || ms > 86_400_000) throw new UnitError(`must be between 10s and 1d; got ${JSON.stringify(v)}`);
      return ms;
    })
      .default('10m')
      .describe('How long a nonce is accepted after it was issued (10s to 1d); an older one gets 438 Stale Nonce with a fresh nonce. A change on reload applies to the nonces already issued too.'),
  }, { error: 'expected an object {"secret": "...", "lifetime": "10m"}' })
  .prefault({})
  .describe('Stateless TURN nonces: no state per client; a nonce is valid only from the IP and port it was issued to.');

export const ConfigSchema = z
  .strictObject({
    address: hostPort()
      .default('0.0.0.0:3478')
      .describe('Where STUN/TURN listens, over UDP and TCP: "host:port" with an IP as host, IPv6 in brackets ([::1]:3478). 0.0.0.0 or [::] listens on all interfaces.'),
    relay_ip: ipOrList()
      .optional()
      .describe('Local IP address(es) relayed sockets bind to: one IP or a list (IPv4 and/or IPv6). Default: the listening IP when it is a specific address, else the first IPv4 and IPv6 of the network interfaces (127.0.0.1 when there is none).'),
    tls_address: hostPort()
      .optional()
      .describe('Where TURN over TLS listens ("host:port", e.g. 0.0.0.0:5349). Needs tls. Not set: no TLS listener.'),
    tls: TlsSchema,
    realm: z
      .string({ error: 'expected a string' })
      .min(1, { error: 'must not be empty' })
      .max(127, { error: 'must be at most 127 characters' })
      .default('ferry')
      .describe('Realm of the long-term credentials; clients compute their keys from user, realm and password.'),
    external_ip: ipOrList()
      .superRefine((value, ctx) => {
        const list = typeof value === 'string' ? [value] : value;
        const v4 = list.filter((ip) => ipFamily(ip) === 4).length;
        if (v4 > 1 || list.length - v4 > 1) {
          ctx.addIssue({ code: 'custom', message: 'expected one IP, or a list of one IPv4 and one IPv6' });
        }
      })
      .optional()
      .describe('Public IP(s) advertised as the relayed address when Ferry is behind NAT: one IP, or one IPv4 and one IPv6. Relayed sockets still bind to relay_ip.'),
    relay_ports: syntax('a port range such as "49152-65535"', parsePortRange)
      .default('49152-65535')
      .describe('Inclusive port range relayed addresses are taken from ("low-high", within 1024-65535).'),
    data_plane: DataPlaneSchema,
    relay_threads: RelayThreadsSchema,
    users: z
      .record(
        z.string().min(1, { error: 'user names must not be empty' }),
        z.string({ error: 'expected a password string' }).min(1, { error: 'passwords must not be empty' }),
        { error: 'expected an object {"name": "password"}' },
      )
      .default({})
      .describe('Static long-term credentials: {"name": "password"}.'),
    auth_secrets: z
      .array(
        z.string({ error: 'expected a string' }).min(16, { error: 'a secret must be at least 16 characters' }),
        { error: 'expected a list of secret strings' },
      )
      .default([])
      .describe('Shared secrets for time-limited credentials (TURN REST API: username "<expiry>:<name>", password base64(HMAC-SHA1(secret, username))). Several allow rotation; each at least 16 characters.'),
    peers: PeersSchema,
    quotas: QuotasSchema,
    signaling: SignalingSchema,
    storage: StorageSchema,
    cluster: ClusterSchema,
    network_usage: NetworkUsageSchema,
    webhooks: WebhooksSchema,
    metrics: MetricsSchema,
    nonce: NonceSchema,
    rate_limits: RateLimitsSchema,
    pid_file: z
      .string({ error: 'expected a file path' })
      .min(1, { error: 'expected a file path' })
      .optional()
      .describe('Where "ferry start" writes its pid file (and its runtime state file next to it: ferry.pid -> ferry.state.json), and where every ferry command given this config file looks for the running Ferry when --pid-file is not given (ferry status, stop, reload, accounts, sessions ...); relative paths start at the config file\'s directory. For a service run by systemd or in a container, e.g. "/run/ferry/ferry.pid". Not set: data/ferry.pid next to the config file, and "ferry start --fg" writes no pid file. --pid-file takes precedence. A change needs a restart.'),
    log_level: z
      .enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` })
      .default('info')
      .describe('Least severe level written to the log (JSON lines on stdout).'),
  }, { error: 'expected a JSON object' })
  .refine(
    (c) => typeof c !== 'object' || c === null || c.tls_address === undefined || c.tls !== undefined,
    { path: ['tls'], error: 'required when tls_address is set: {"cert": "<file>", "key": "<file>"}', when: () => true },
  )
  .refine(
    (c) => typeof c !== 'object' || c === null || c.tls === undefined || c.tls_address !== undefined,
    { path: ['tls_address'], error: 'required when tls is set (or remove tls)', when: () => true },
  )
  .describe('Ferry configuration file (JSON).');

/** A validated config with its defaults filled in. */
export type Config = z.output<typeof ConfigSchema>;
/** What may be written in a config file (every key optional where a default exists). */
export type ConfigInput = z.input<typeof ConfigSchema>;

/** The embedded defaults: what Ferry runs with when there is no config file. */
export function defaultConfig(): Config {
  return ConfigSchema.parse({});
}

interface SchemaNode {
  readonly def: {
    readonly type: string;
    readonly innerType?: SchemaNode;
    readonly in?: SchemaNode;
    readonly shape?: Record<string, SchemaNode>;
    readonly element?: SchemaNode;
    readonly valueType?: SchemaNode;
  };
}

/** Strips default/prefault/optional/pipe wrappers: the schema that describes the value's shape. */
export function unwrapSchema(schema: unknown): SchemaNode {
  let node = schema as SchemaNode;
  for (;;) {
    const { type, innerType } = node.def;
    if ((type === 'default' || type === 'prefault' || type === 'optional' || type === 'nullable' || type === 'readonly') && innerType) {
      node = innerType;
    } else if (type === 'pipe' && node.def.in) {
      node = node.def.in;
    } else {
      return node;
    }
  }
}

/** The keys an object in the config may have at `path` (e.g. ['quotas']); [] when not an object. */
export function knownKeys(path: readonly PropertyKey[]): string[] {
  let node: SchemaNode | undefined = unwrapSchema(ConfigSchema);
  for (const segment of path) {
    const def: SchemaNode['def'] = node.def;
    const next: SchemaNode | undefined =
      def.type === 'object' ? def.shape?.[String(segment)] : def.type === 'array' ? def.element : def.type === 'record' ? def.valueType : undefined;
    if (next === undefined) return [];
    node = unwrapSchema(next);
  }
  return node.def.type === 'object' && node.def.shape ? Object.keys(node.def.shape) : [];
}
