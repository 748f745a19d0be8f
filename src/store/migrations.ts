/**
 * Versioned schema migrations of the SQLite store. `schema_version` holds one row: the version
 * applied last. Each migration runs in its own transaction together with the version bump, so
 * opening a database twice (or two processes racing at start) applies nothing twice.
 * Append new migrations; never edit one that has shipped.
 */
import type { Database } from 'better-sqlite3';

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'accounts and API keys',
    sql: `
      CREATE TABLE accounts (
        id                     TEXT PRIMARY KEY,
        name                   TEXT NOT NULL,
        disabled               INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
        created_at             INTEGER NOT NULL,
        credentials_not_before INTEGER NOT NULL DEFAULT 0,
        deleted_at             INTEGER
      ) STRICT;
      CREATE TABLE api_keys (
        id         TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        hash       TEXT NOT NULL UNIQUE,
        prefix     TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT;
      CREATE INDEX api_keys_account ON api_keys(account_id);
    `,
  },
  {
    version: 2,
    description: 'webhook outbox',
    sql: `
      CREATE TABLE webhook_outbox (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        id              TEXT NOT NULL UNIQUE,
        webhook         TEXT NOT NULL,
        type            TEXT NOT NULL,
        body            TEXT NOT NULL,
        created_at      INTEGER NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error      TEXT
      ) STRICT;
      CREATE INDEX webhook_outbox_order ON webhook_outbox(webhook, seq);
    `,
  },
  {
    version: 3,
    description: 'per-account usage limit',
    sql: `
      ALTER TABLE accounts ADD COLUMN limit_bytes INTEGER CHECK (limit_bytes IS NULL OR limit_bytes > 0);
    `,
  },
  {
    version: 4,
    description: 'per-account bandwidth cap',
    sql: `
      ALTER TABLE accounts ADD COLUMN max_bps INTEGER CHECK (max_bps IS NULL OR max_bps > 0);
    `,
  },
  {
    version: 5,
    description: 'unique account names (ignoring ASCII case)',
    // An older database may hold live accounts with the same name. Refusing to start on it would
    // lock the operator out, so the oldest account keeps the name and each younger namesake is
    // renamed "<name> (<id>)", the name cut so that the whole stays within 100 characters (ids
    // are unique and contain no parentheses), visible in
    // `ferry accounts list` and renamable. Deleted accounts keep their names and free them: the
    // index covers live accounts only.
    sql: `
      UPDATE accounts SET name = substr(name, 1, 97 - length(id)) || ' (' || id || ')'
      WHERE deleted_at IS NULL AND EXISTS (
        SELECT 1 FROM accounts AS older
        WHERE older.deleted_at IS NULL AND older.name = accounts.name COLLATE NOCASE
          AND (older.created_at < accounts.created_at OR (older.created_at = accounts.created_at AND older.rowid < accounts.rowid))
      );
      CREATE UNIQUE INDEX accounts_live_name ON accounts(name COLLATE NOCASE) WHERE deleted_at IS NULL;
    `,
  },
];

/** Where a set of migrations keeps its version, and how a too new version is reported. */
export interface VersionTable {
  /** The one-row table holding the version applied last. */
  readonly table: string;
  /** What the version is of, as the error for a too new version names it: "the database", "the usage tables". */
  readonly label: string;
}

/** The accounts' migrations (MIGRATIONS). */
export const SCHEMA_VERSION: VersionTable = { table: 'schema_version', label: 'the database' };

/** The schema version of the database (0 for a new one). */
export function schemaVersion(db: Database, versions: VersionTable = SCHEMA_VERSION): number {
  db.exec(`CREATE TABLE IF NOT EXISTS ${versions.table} (version INTEGER NOT NULL)`);
  const row = db.prepare(`SELECT max(version) AS version FROM ${versions.table}`).get() as { version: number | null };
  return row.version ?? 0;
}

/** Applies every migration newer than the database; returns the versions applied. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS, versions: VersionTable = SCHEMA_VERSION): number[] {
  const applied: number[] = [];
  for (const m of migrations) {
    // IMMEDIATE: take the write lock before reading the version, so a concurrent opener waits.
    const step = db.transaction(() => {
      if (schemaVersion(db, versions) >= m.version) return false;
      db.exec(m.sql);
      db.prepare(`DELETE FROM ${versions.table}`).run();
      db.prepare(`INSERT INTO ${versions.table} (version) VALUES (?)`).run(m.version);
      return true;
    });
    if (step.immediate()) applied.push(m.version);
  }
  const latest = migrations.length > 0 ? migrations[migrations.length - 1].version : 0;
  const current = schemaVersion(db, versions);
  if (current > latest) {
    throw new Error(`storage: schema version ${current} of ${versions.label} is newer than this Ferry supports (${latest})`);
  }
  return applied;
}
