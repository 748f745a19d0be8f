/**
 * UsageStore over better-sqlite3, in the accounts' database file (it shares SqliteAccountStore's
 * connection). Its tables have their own versioned migrations (`usage_schema_version`), applied
 * by ./migrations.ts's migrate(): one transaction per step, never twice. A batch is applied at
 * most once: `usage_writers` keeps each writer's last applied seq, updated in the batch's own
 * transaction, so a retried batch (its first attempt's outcome unknown) adds nothing twice.
 */
import type { Database, Statement } from 'better-sqlite3';
import type {
  ArchivedTimeframe,
  Counters,
  FlushBatch,
  SessionRecord,
  Timeframe,
  UsageFilter,
  UsageRow,
  UsageStore,
} from '../metering/types.js';
import { checkBatchIdentity, copyCounters, DAY_MS, HOUR_MS, rollUpDays } from '../metering/types.js';
import { migrate, type Migration, type VersionTable } from './migrations.js';

const COUNTER_COLUMNS = `
  bytes_to_peer     INTEGER NOT NULL DEFAULT 0,
  bytes_to_client   INTEGER NOT NULL DEFAULT 0,
  packets_to_peer   INTEGER NOT NULL DEFAULT 0,
  packets_to_client INTEGER NOT NULL DEFAULT 0`;

export const USAGE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'usage ledger',
    sql: `
      CREATE TABLE usage_timeframe (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        start     INTEGER NOT NULL,
        length_ms INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE usage_hourly (
        account TEXT NOT NULL,
        hour    INTEGER NOT NULL,${COUNTER_COLUMNS},
        PRIMARY KEY (account, hour)
      ) STRICT;
      CREATE TABLE usage_timeframes (
        account         TEXT NOT NULL,
        timeframe_start INTEGER NOT NULL,${COUNTER_COLUMNS},
        PRIMARY KEY (account, timeframe_start)
      ) STRICT;
      CREATE TABLE usage_sessions (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        allocation_id  INTEGER NOT NULL,
        account        TEXT NOT NULL,
        transport      TEXT NOT NULL,
        client_address TEXT NOT NULL,
        client_port    INTEGER NOT NULL,
        started_at     INTEGER NOT NULL,
        ended_at       INTEGER NOT NULL,
        reason         TEXT NOT NULL,${COUNTER_COLUMNS}
      ) STRICT;
      CREATE INDEX usage_sessions_account ON usage_sessions(account, ended_at);
      CREATE TABLE usage_archives (
        start       INTEGER PRIMARY KEY,
        end         INTEGER NOT NULL,
        archived_at INTEGER NOT NULL,
        totals      TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    description: 'usage per timeframe by timeframe_start (the limiter reads it every second)',
    sql: `
      CREATE INDEX IF NOT EXISTS usage_timeframes_start ON usage_timeframes(timeframe_start);
    `,
  },
  {
    version: 3,
    description: 'usage batch watermarks per writer (a retried flush adds nothing twice)',
    sql: `
      CREATE TABLE usage_writers (
        writer     TEXT PRIMARY KEY,
        seq        INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX usage_writers_updated ON usage_writers(updated_at);
    `,
  },
];

/**
 * A writer is one run of a process, so its watermark is needed only while that run may still
 * retry a batch (its last write interval and its bounded final flush). Rows untouched this long
 * are dropped when a new writer first writes, so the table stays as small as the recent runs.
 */
export const WRITER_RETENTION_MS = 30 * 86_400_000;

const USAGE_SCHEMA_VERSION: VersionTable = { table: 'usage_schema_version', label: 'the usage tables' };

interface CounterRow {
  bytes_to_peer: number;
  bytes_to_client: number;
  packets_to_peer: number;
  packets_to_client: number;
}

const counters = (r: CounterRow): Counters => ({
  bytesToPeer: r.bytes_to_peer,
  bytesToClient: r.bytes_to_client,
  packetsToPeer: r.packets_to_peer,
  packetsToClient: r.packets_to_client,
});

const SUMS =
  'sum(bytes_to_peer) AS bytes_to_peer, sum(bytes_to_client) AS bytes_to_client, sum(packets_to_peer) AS packets_to_peer, sum(packets_to_client) AS packets_to_client';
const UPSERT_SET =
  'bytes_to_peer = bytes_to_peer + excluded.bytes_to_peer, bytes_to_client = bytes_to_client + excluded.bytes_to_client, packets_to_peer = packets_to_peer + excluded.packets_to_peer, packets_to_client = packets_to_client + excluded.packets_to_client';

interface ArchiveRow {
  start: number;
  end: number;
  archived_at: number;
  totals: string;
}

// Archives written before rows carried their end get the archive's.
const archiveOf = (r: ArchiveRow): ArchivedTimeframe => ({
  start: r.start,
  end: r.end,
  archivedAt: r.archived_at,
  accounts: (JSON.parse(r.totals) as UsageRow[]).map((row) => ({ ...row, end: row.end ?? r.end })),
});

export class SqliteUsageStore implements UsageStore {
  readonly #db: Database;
  readonly #getTimeframe: Statement;
  readonly #putTimeframe: Statement;
  readonly #addHourly: Statement;
  readonly #addTimeframe: Statement;
  readonly #addSession: Statement;
  readonly #writerSeq: Statement;
  readonly #putWriter: Statement;
  readonly #pruneWriters: Statement;
  readonly #timeframeTotals: Statement;
  readonly #putArchive: Statement;
  readonly #archives: Statement;
  readonly #archiveEnd: Statement;
  readonly #putArchiveTotals: Statement;
  readonly #allSessions: Statement;
  readonly #accountSessions: Statement;
  /** usage()'s statements by their SQL (a few shapes: granularity × which bounds are set). */
  readonly #usageStatements = new Map<string, Statement>();

  /** `db`: an open connection, e.g. SqliteAccountStore.db; the caller closes it. */
  constructor(db: Database) {
    this.#db = db;
    migrate(db, USAGE_MIGRATIONS, USAGE_SCHEMA_VERSION);
    this.#getTimeframe = db.prepare('SELECT start, length_ms FROM usage_timeframe WHERE id = 1');
    this.#putTimeframe = db.prepare(
      'INSERT INTO usage_timeframe (id, start, length_ms) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET start = excluded.start, length_ms = excluded.length_ms',
    );
    this.#addHourly = db.prepare(
      `INSERT INTO usage_hourly (account, hour, bytes_to_peer, bytes_to_client, packets_to_peer, packets_to_client)
       VALUES (@account, @at, @bytesToPeer, @bytesToClient, @packetsToPeer, @packetsToClient)
       ON CONFLICT (account, hour) DO UPDATE SET ${UPSERT_SET}`,
    );
    this.#addTimeframe = db.prepare(
      `INSERT INTO usage_timeframes (account, timeframe_start, bytes_to_peer, bytes_to_client, packets_to_peer, packets_to_client)
       VALUES (@account, @at, @bytesToPeer, @bytesToClient, @packetsToPeer, @packetsToClient)
       ON CONFLICT (account, timeframe_start) DO UPDATE SET ${UPSERT_SET}`,
    );
    this.#addSession = db.prepare(
      `INSERT INTO usage_sessions (allocation_id, account, transport, client_address, client_port, started_at, ended_at, reason,
         bytes_to_peer, bytes_to_client, packets_to_peer, packets_to_client)
       VALUES (@allocationId, @account, @transport, @clientAddress, @clientPort, @startedAt, @endedAt, @reason,
         @bytesToPeer, @bytesToClient, @packetsToPeer, @packetsToClient)`,
    );
    this.#writerSeq = db.prepare('SELECT seq FROM usage_writers WHERE writer = ?');
    this.#putWriter = db.prepare(
      'INSERT INTO usage_writers (writer, seq, updated_at) VALUES (?, ?, ?) ON CONFLICT (writer) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at',
    );
    this.#pruneWriters = db.prepare('DELETE FROM usage_writers WHERE updated_at < ?');
    this.#timeframeTotals = db.prepare(
      `SELECT account, timeframe_start AS start, ${SUMS} FROM usage_timeframes WHERE timeframe_start = ? GROUP BY account ORDER BY account`,
    );
    this.#putArchive = db.prepare('INSERT OR REPLACE INTO usage_archives (start, end, archived_at, totals) VALUES (?, ?, ?, ?)');
    this.#archives = db.prepare('SELECT start, end, archived_at, totals FROM usage_archives ORDER BY start');
    this.#archiveEnd = db.prepare('SELECT end FROM usage_archives WHERE start = ?');
    this.#putArchiveTotals = db.prepare('UPDATE usage_archives SET totals = ? WHERE start = ?');
    this.#allSessions = db.prepare('SELECT * FROM usage_sessions ORDER BY id');
    this.#accountSessions = db.prepare('SELECT * FROM usage_sessions WHERE account = ? ORDER BY id');
  }

  async timeframe(): Promise<Timeframe | null> {
    const row = this.#getTimeframe.get() as { start: number; length_ms: number } | undefined;
    return row === undefined ? null : { start: row.start, lengthMs: row.length_ms };
  }

  async setTimeframe(tf: Timeframe): Promise<void> {
    this.#setTimeframe(tf);
  }

  #setTimeframe(tf: Timeframe): void {
    this.#putTimeframe.run(tf.start, tf.lengthMs);
  }

  async record(batch: FlushBatch): Promise<void> {
    checkBatchIdentity(batch);
    this.#db.transaction(() => {
      const applied = this.#writerSeq.get(batch.writer) as { seq: number } | undefined;
      if (applied !== undefined && batch.seq <= applied.seq) return; // replayed or older: applied already
      const now = Date.now();
      if (applied === undefined) this.#pruneWriters.run(now - WRITER_RETENTION_MS);
      this.#putWriter.run(batch.writer, batch.seq, now);
      for (const d of batch.deltas) {
        const c = { account: d.account, ...copyCounters(d) };
        this.#addHourly.run({ ...c, at: batch.hour });
        this.#addTimeframe.run({ ...c, at: batch.timeframeStart });
      }
      for (const s of batch.sessions) this.#addSession.run({ ...s });
      // A batch for a timeframe archived already (another node's flush that lands after the
      // rollover) updates the archive's totals too, as the Redis store does.
      const archived = batch.deltas.length > 0 ? (this.#archiveEnd.get(batch.timeframeStart) as { end: number } | undefined) : undefined;
      if (archived !== undefined) this.#putArchiveTotals.run(JSON.stringify(this.#totals(batch.timeframeStart, archived.end)), batch.timeframeStart);
    }).immediate();
  }

  /** The timeframe's totals per account (in account order), as its archive holds them. */
  #totals(start: number, end: number): UsageRow[] {
    const rows = this.#timeframeTotals.all(start) as (CounterRow & { account: string; start: number })[];
    return rows.map((r) => ({ account: r.account, start: r.start, end, ...counters(r) }));
  }

  async usage(filter: UsageFilter): Promise<UsageRow[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    const byTimeframe = filter.granularity === 'timeframe';
    const col = byTimeframe ? 't.timeframe_start' : 't.hour';
    if (filter.account !== undefined) {
      where.push('t.account = @account');
      params.account = filter.account;
    }
    // Per day: whole days whose start is within [from, to), so the hours from the first day boundary.
    const bound = (t: number) => (filter.granularity === 'day' ? Math.ceil(t / DAY_MS) * DAY_MS : t);
    if (filter.from !== undefined) {
      where.push(`${col} >= @from`);
      params.from = bound(filter.from);
    }
    if (filter.to !== undefined) {
      where.push(`${col} < @to`);
      params.to = bound(filter.to);
    }
    // A timeframe ends where its archive says, or (the current one) where the stored window does.
    // Calendar months differ in length, so the end is never derived from the setting.
    const from = byTimeframe
      ? `usage_timeframes t LEFT JOIN usage_archives a ON a.start = t.timeframe_start LEFT JOIN usage_timeframe c ON c.id = 1`
      : 'usage_hourly t';
    const end = byTimeframe
      ? `, COALESCE(a."end", CASE WHEN c.start = t.timeframe_start THEN c.start + c.length_ms END, t.timeframe_start + c.length_ms) AS "end"`
      : '';
    const sums = SUMS.replace(/sum\(/g, 'sum(t.');
    const sql = `SELECT t.account AS account, ${col} AS start${end}, ${sums} FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY t.account, ${col} ORDER BY ${col}, t.account`;
    let statement = this.#usageStatements.get(sql);
    if (statement === undefined) this.#usageStatements.set(sql, (statement = this.#db.prepare(sql)));
    const rows = statement.all(params) as (CounterRow & { account: string; start: number; end?: number | null })[];
    const length = filter.granularity === 'day' ? DAY_MS : HOUR_MS;
    const out = rows.map((r) => ({ account: r.account, start: r.start, end: byTimeframe ? (r.end ?? r.start) : r.start + length, ...counters(r) }));
    return filter.granularity === 'day' ? rollUpDays(out) : out;
  }

  async rollover(closed: Timeframe, next: Timeframe, archivedAt: number): Promise<ArchivedTimeframe> {
    const db = this.#db;
    return db.transaction(() => {
      // Archived already (a retry, or another caller first): that archive stands and nothing changes.
      const existing = db.prepare('SELECT start, end, archived_at, totals FROM usage_archives WHERE start = ?').get(closed.start) as ArchiveRow | undefined;
      if (existing !== undefined) return archiveOf(existing);
      const end = closed.start + closed.lengthMs;
      const archived: ArchivedTimeframe = { start: closed.start, end, archivedAt, accounts: this.#totals(closed.start, end) };
      this.#putArchive.run(
        archived.start,
        archived.end,
        archivedAt,
        JSON.stringify(archived.accounts),
      );
      this.#setTimeframe(next);
      return archived;
    }).immediate();
  }

  async archives(): Promise<ArchivedTimeframe[]> {
    return (this.#archives.all() as ArchiveRow[]).map(archiveOf);
  }

  async sessions(account?: string): Promise<SessionRecord[]> {
    const rows = (
      account === undefined ? this.#allSessions.all() : this.#accountSessions.all(account)
    ) as (CounterRow & { allocation_id: number; account: string; transport: string; client_address: string; client_port: number; started_at: number; ended_at: number; reason: string })[];
    return rows.map((r) => ({
      allocationId: r.allocation_id,
      account: r.account,
      transport: r.transport,
      clientAddress: r.client_address,
      clientPort: r.client_port,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      reason: r.reason,
      ...counters(r),
    }));
  }
}
