/** Parsing of `stun:` / `turn:` / `turns:` URLs (RFC 7064, RFC 7065) for the adapters. */

export type IceScheme = 'stun' | 'stuns' | 'turn' | 'turns';
export type TurnTransport = 'udp' | 'tcp' | 'tls';

export interface IceUrl {
  readonly scheme: IceScheme;
  /** Without brackets for IPv6. */
  readonly host: string;
  readonly port: number;
  /** For turn/turns: the effective transport (turns → tls; turn without ?transport → udp). */
  readonly transport?: TurnTransport;
  readonly url: string;
}

const SCHEMES: readonly IceScheme[] = ['stun', 'stuns', 'turn', 'turns'];

/** null for anything that is not a well-formed ICE server URL. */
export function parseIceUrl(url: string): IceUrl | null {
  const m = /^([a-z]+):([^?#]*)(?:\?([^#]*))?$/i.exec(url.trim());
  if (!m) return null;
  const scheme = m[1].toLowerCase() as IceScheme;
  if (!SCHEMES.includes(scheme)) return null;
  const secure = scheme === 'stuns' || scheme === 'turns';
  const defaultPort = secure ? 5349 : 3478;
  const authority = m[2].startsWith('//') ? m[2].slice(2) : m[2];
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return null;
    host = authority.slice(1, close);
    const rest = authority.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return null;
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const parts = authority.split(':');
    if (parts.length > 2) return null;
    host = parts[0];
    portText = parts[1];
  }
  if (host === '') return null;
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port < 1 || port > 65535) return null;
  }
  if (scheme === 'stun' || scheme === 'stuns') return { scheme, host, port, url };
  const param = new URLSearchParams(m[3] ?? '').get('transport');
  let transport: TurnTransport;
  if (param === null) transport = scheme === 'turns' ? 'tls' : 'udp';
  else if (param === 'udp' && scheme === 'turn') transport = 'udp';
  else if (param === 'tcp') transport = scheme === 'turns' ? 'tls' : 'tcp';
  else return null;
  return { scheme, host, port, transport, url };
}

/** Every URL of a list of ICE servers with the entry it came from. */
export function eachUrl<T extends { urls: string | string[] }>(servers: readonly T[]): Array<{ server: T; url: string }> {
  const out: Array<{ server: T; url: string }> = [];
  for (const server of servers) {
    for (const url of Array.isArray(server.urls) ? server.urls : [server.urls]) out.push({ server, url });
  }
  return out;
}
