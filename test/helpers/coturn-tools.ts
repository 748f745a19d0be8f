// Drivers for coturn's client tools: turnutils_peer (UDP echo on P and P+1) and turnutils_uclient.
// uclient exits 0 even at 100% loss and 255 when it cannot allocate / bind: parse its stdout.
import { createSocket } from 'node:dgram';
import { freePort } from './ports.js';
import { killNow, spawnGuarded, terminate } from './reaper.js';

export interface EchoPeer {
  readonly port: number;
  stop(): Promise<void>;
}

function echoes(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const probe = Buffer.from('ferry-probe');
    const timer = setTimeout(() => { s.close(); resolve(false); }, 200);
    s.on('message', (m) => {
      if (m.equals(probe)) { clearTimeout(timer); s.close(); resolve(true); }
    });
    s.on('error', () => { clearTimeout(timer); s.close(); resolve(false); });
    s.send(probe, port, '127.0.0.1');
  });
}

/** Starts `turnutils_peer -p P -L 127.0.0.1` and waits until both P and P+1 echo. */
export async function startEchoPeer(): Promise<EchoPeer> {
  const port = await freePort({ pair: true, tcp: false });
  const child = spawnGuarded('turnutils_peer', ['-p', String(port), '-L', '127.0.0.1']);
  child.stdout.resume();
  child.stderr.resume();
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`turnutils_peer exited with ${child.exitCode}`);
    if ((await echoes(port)) && (await echoes(port + 1))) return { port, stop: () => terminate(child, 1000) };
    await new Promise((r) => setTimeout(r, 50));
  }
  await terminate(child, 500);
  throw new Error(`turnutils_peer on ${port} did not echo within 5 s`);
}

export interface UclientOptions {
  readonly serverPort: number;
  readonly peerPort: number;
  /** Long-term credentials (-u/-w). */
  readonly user?: string;
  readonly password?: string;
  /** REST secret (-W); the username becomes `<now+86400>:<user>`. */
  readonly restSecret?: string;
  readonly tcp?: boolean; // -t
  readonly sendIndications?: boolean; // -s
  readonly noRtcp?: boolean; // -c: one allocation per client instead of two
  readonly clients?: number; // -m
  readonly messages?: number; // -n
  readonly length?: number; // -l
  readonly intervalMs?: number; // -z
  readonly timeoutMs?: number;
}

export interface UclientResult {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly output: string;
  readonly totSend?: number;
  readonly totRecv?: number;
  readonly lostPackets?: number;
  readonly lostPercent?: number;
}

export function uclientArgs(o: UclientOptions): string[] {
  const a: string[] = [];
  if (o.tcp) a.push('-t');
  if (o.sendIndications) a.push('-s');
  if (o.noRtcp) a.push('-c');
  if (o.user !== undefined) a.push('-u', o.user);
  if (o.password !== undefined) a.push('-w', o.password);
  if (o.restSecret !== undefined) a.push('-W', o.restSecret);
  a.push('-m', String(o.clients ?? 1), '-n', String(o.messages ?? 5), '-l', String(o.length ?? 100));
  a.push('-z', String(o.intervalMs ?? 5), '-e', '127.0.0.1', '-r', String(o.peerPort));
  a.push('-p', String(o.serverPort), '127.0.0.1');
  return a;
}

export function parseUclient(output: string): Pick<UclientResult, 'totSend' | 'totRecv' | 'lostPackets' | 'lostPercent'> {
  // The final summary line has only the two message counts (per-step lines add msz= and bytes).
  const totals = [...output.matchAll(/tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$/gm)].pop();
  const lost = /Total lost packets (\d+) \(([\d.]+)%\)/.exec(output);
  return {
    totSend: totals ? Number(totals[1]) : undefined,
    totRecv: totals ? Number(totals[2]) : undefined,
    lostPackets: lost ? Number(lost[1]) : undefined,
    lostPercent: lost ? Number(lost[2]) : undefined,
  };
}

export function runUclient(o: UclientOptions): Promise<UclientResult> {
  const timeoutMs = o.timeoutMs ?? 40_000;
  return new Promise((resolve, reject) => {
    const child = spawnGuarded('turnutils_uclient', uclientArgs(o));
    let output = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => { output += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { output += d; });
    const timer = setTimeout(() => { timedOut = true; killNow(child); }, timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, timedOut, output, ...parseUclient(output) });
    });
  });
}

/** One-line summary for assertion messages. */
export function describeRun(r: UclientResult): string {
  return `exit=${r.exitCode} timedOut=${r.timedOut} send=${r.totSend} recv=${r.totRecv} lost=${r.lostPackets}` +
    `\n--- uclient output (tail) ---\n${r.output.split('\n').slice(-15).join('\n')}`;
}
