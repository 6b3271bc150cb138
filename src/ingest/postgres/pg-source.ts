import type { FileHandle } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import {
  AccessDeniedError,
  NetworkError,
  NotFoundError,
  ValidationError,
  WharfError,
  throwIfAborted,
} from '../../core/errors.js';
import { csvLeadField, type CatalogColumn, type ColumnPlan } from '../column-types.js';
import type { PgConnectionConfig } from '../source-config.js';

/** A table as the catalog describes it. */
export interface TableInfo {
  schema: string;
  table: string;
  columns: CatalogColumn[];
  /** Primary-key columns in key order; empty when the table has none. */
  primaryKey: string[];
  cursor: { name: string; base: 'timestamptz' | 'timestamp' };
}

/** The upper bound of a run's window and why it is where it is. */
export interface WindowBound {
  /** The database clock when the bound was taken (UTC instant with microseconds). */
  dbNow: string;
  /** Exclusive upper bound: min(dbNow - lag, start of the oldest open transaction, until). */
  upper: string;
  /** Set when an open transaction held the bound below dbNow - lag. */
  heldBy?: { pid: number; since: string };
  /**
   * Set when the bound was moved back to the start of an hour the local clock is about to repeat (a `timestamp`
   * cursor in a zone with daylight saving time): the bound it would have been.
   */
  heldBeforeClockChange?: string;
}

const INSTANT_SQL = (expr: string): string =>
  `to_char((${expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Report extraction progress every this many bytes. */
const PROGRESS_STEP = 8 * 1024 * 1024;
/** Writes all of `chunk` (a write to a pipe may take only part of it). */
async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/** Bytes per write to the CSV temp file. */
const WRITE_BATCH = 1024 * 1024;

/** Session settings that make COPY's CSV exact and unambiguous for DuckDB. */
const SESSION_SQL = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  'SET extra_float_digits = 1',
  "SET bytea_output = 'hex'",
  "SET application_name = 'wharf-ingest'",
].join('; ');

/**
 * One connection to the source database for a whole run (every table, every query). Identifiers are quoted
 * with pg's escapeIdentifier after the catalog confirmed them; every value is a bind parameter (COPY cannot
 * take parameters, so its bounds go through `set_config($1)` and `current_setting()`).
 */
export class PgSource {
  /** Set when a replacement connection could not be opened: every later query fails with it. */
  private lost: WharfError | undefined;

  private constructor(
    private current: pg.Client,
    private readonly config: PgConnectionConfig,
    /** The session's TimeZone before we set UTC: how `timestamp` (no tz) cursor values are read. */
    readonly defaultTimeZone: string,
    readonly describe: string,
  ) {}

  static async connect(config: PgConnectionConfig): Promise<PgSource> {
    const session = await openSession(config);
    return new PgSource(session.client, config, session.timeZone, session.describe);
  }

  private get client(): pg.Client {
    if (this.lost) throw this.lost;
    return this.current;
  }

  async close(): Promise<void> {
    await this.current.end().catch(() => undefined);
  }

  /**
   * A COPY cut short (the Parquet writer failed, the pipe broke) leaves the rest of its output on the connection,
   * unread: every later query would wait behind it for ever (and with nothing else to wait for, Node exited
   * without a word). pg destroys the socket of a connection with a query under way; a new session replaces it.
   */
  private async replaceConnection(): Promise<void> {
    await this.current.end().catch(() => undefined);
    try {
      this.current = (await openSession(this.config)).client;
    } catch (error) {
      this.lost = toWharfErrorOf(error);
    }
  }

  /** Looks the table and its columns up in the catalog; throws NotFoundError / ValidationError naming what is wrong. */
  async describeTable(schema: string, table: string, cursorColumn: string): Promise<TableInfo> {
    const found = await this.client.query<{ oid: number }>(
      `SELECT c.oid::int8 AS oid FROM information_schema.tables t
         JOIN pg_namespace n ON n.nspname = t.table_schema
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.table_name
        WHERE t.table_schema = $1 AND t.table_name = $2`,
      [schema, table],
    );
    const oid = found.rows[0]?.oid;
    if (oid === undefined) {
      const similar = await this.sameNameInAnotherCase(schema, table);
      throw new NotFoundError(`table ${JSON.stringify(`${schema}.${table}`)} not found in ${this.describe}`, {
        hint:
          (similar ? `did you mean ${similar}? ` : '') +
          'names are case-sensitive; check --tables (schema.table for schemas other than public) and the role’s privileges',
      });
    }
    const columns = await this.client.query<{
      name: string;
      declared: string;
      base: string;
      kind: string;
      elem: string | null;
      elem_kind: string | null;
      typmod: number;
    }>(
      // Domains are followed to their base type through every level (a domain over a domain), for the column
      // and for an array's element (an array of a domain); the typmod is the innermost domain's, as Postgres'
      // getBaseTypeAndTypmod() gives it.
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS declared,
              bt.typname AS base, bt.typtype AS kind, et.typname AS elem, et.typtype AS elem_kind,
              CASE WHEN et.oid IS NOT NULL THEN e.typmod ELSE b.typmod END AS typmod
         FROM pg_attribute a
        CROSS JOIN LATERAL (
          WITH RECURSIVE chain(oid, typmod, depth) AS (
            SELECT a.atttypid, a.atttypmod, 0
            UNION ALL
            SELECT t.typbasetype, t.typtypmod, c.depth + 1 FROM chain c JOIN pg_type t ON t.oid = c.oid
             WHERE t.typtype = 'd')
          SELECT oid, typmod FROM chain ORDER BY depth DESC LIMIT 1) b
         JOIN pg_type bt ON bt.oid = b.oid
         LEFT JOIN LATERAL (
          WITH RECURSIVE chain(oid, typmod, depth) AS (
            SELECT bt.typelem, b.typmod, 0 WHERE bt.typcategory = 'A' AND bt.typelem <> 0
            UNION ALL
            SELECT t.typbasetype, t.typtypmod, c.depth + 1 FROM chain c JOIN pg_type t ON t.oid = c.oid
             WHERE t.typtype = 'd')
          SELECT oid, typmod FROM chain ORDER BY depth DESC LIMIT 1) e ON true
         LEFT JOIN pg_type et ON et.oid = e.oid
        WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [oid],
    );
    const primaryKey = await this.client.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = $1::oid AND i.indisprimary
        ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [oid],
    );
    const catalog: CatalogColumn[] = columns.rows.map((r) => ({
      name: r.name,
      declared: r.declared,
      base: r.base,
      kind: r.kind,
      element: r.elem ? { base: r.elem, kind: r.elem_kind ?? 'b' } : undefined,
      typmod: Number(r.typmod),
    }));
    const cursor = catalog.find((c) => c.name === cursorColumn);
    if (!cursor) {
      throw new ValidationError(
        `table ${JSON.stringify(`${schema}.${table}`)} has no column ${JSON.stringify(cursorColumn)}`,
        { hint: 'name the column that records each row’s last change with --cursor-column' },
      );
    }
    if (cursor.base !== 'timestamptz' && cursor.base !== 'timestamp') {
      throw new ValidationError(
        `cursor column ${JSON.stringify(cursorColumn)} of ${JSON.stringify(`${schema}.${table}`)} is ${cursor.declared}, not a timestamp`,
        {
          hint: 'the cursor must be a timestamptz (or timestamp) column set to now() on every insert and update',
        },
      );
    }
    return {
      schema,
      table,
      columns: catalog,
      primaryKey: primaryKey.rows.map((r) => r.name),
      cursor: { name: cursorColumn, base: cursor.base },
    };
  }

  /** A table whose schema and name equal these but for case, as --tables would name it; undefined if none. */
  private async sameNameInAnotherCase(schema: string, table: string): Promise<string | undefined> {
    const r = await this.client.query<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
        WHERE lower(table_schema) = lower($1) AND lower(table_name) = lower($2)
        ORDER BY table_schema = $1 DESC, table_name LIMIT 1`,
      [schema, table],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    const quote = (name: string): string => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : JSON.stringify(name));
    return row.schema === schema ? quote(row.name) : `${quote(row.schema)}.${quote(row.name)}`;
  }

  /**
   * The window's upper bound, from the database clock: min(now - lag, start of the oldest open transaction in
   * this database, until). A transaction still open can only write cursor values >= its start (now() is the
   * transaction's start), so every row below the bound is committed by the time we read it. Open transactions of
   * other roles whose start we cannot see (no pg_read_all_stats), and prepared (two-phase) transactions, are
   * waited for, up to `guardWaitSeconds`.
   */
  async windowBound(options: {
    lagSeconds: number;
    until?: string | undefined;
    guardWaitSeconds: number;
    /** The cursor is a `timestamp` (no time zone), written by the local clock of `defaultTimeZone`. */
    localClock?: boolean | undefined;
    signal?: AbortSignal | undefined;
  }): Promise<WindowBound> {
    const r = await this.client.query<{
      db_now: string;
      upper: string;
      pid: number | null;
      since: string | null;
      held: boolean;
    }>(
      `SELECT ${INSTANT_SQL('c.now')} AS db_now,
              ${INSTANT_SQL('least(c.now - make_interval(secs => $1::float8), o.xact_start, $2::timestamptz)')} AS upper,
              o.pid, ${INSTANT_SQL('o.xact_start')} AS since,
              coalesce(o.xact_start < c.now - make_interval(secs => $1::float8)
                       AND ($2::timestamptz IS NULL OR o.xact_start < $2::timestamptz), false) AS held
         FROM (SELECT clock_timestamp() AS now) c
         LEFT JOIN LATERAL (
           SELECT pid, xact_start FROM pg_stat_activity
            WHERE pid <> pg_backend_pid() AND datname = current_database()
              AND backend_type = 'client backend' AND xact_start IS NOT NULL
            ORDER BY xact_start LIMIT 1) o ON true`,
      [options.lagSeconds, options.until ?? null],
    );
    const row = r.rows[0];
    if (!row) throw new WharfError('INTERNAL', 'the window query returned no row');
    await this.waitForUnseenTransactions(options.guardWaitSeconds, options.signal);
    const upper = options.localClock ? await this.beforeLocalClockGoesBack(row.upper) : row.upper;
    return {
      dbNow: row.db_now,
      upper,
      ...(row.held && row.pid !== null && row.since ? { heldBy: { pid: row.pid, since: row.since } } : {}),
      ...(upper !== row.upper ? { heldBeforeClockChange: row.upper } : {}),
    };
  }

  /**
   * A `timestamp` cursor holds the local wall time, which a zone with daylight saving time turns back once a year
   * (02:00-03:00 twice): a bound inside the hour before the change would be followed by rows with smaller values
   * (the hour again), below the next window's start and never read, while the next window re-read the hour.
   * The bound moves back to the first instant from which the local clock never shows a smaller time: the start
   * of that hour. The local time is sampled each minute over the next 3 hours (clock changes fall on whole
   * minutes and shift by at most 2 hours).
   */
  private async beforeLocalClockGoesBack(upper: string): Promise<string> {
    const r = await this.client.query<{ upper: string | null }>(
      `SELECT ${INSTANT_SQL(
        `$1::timestamptz - greatest(interval '0', ($1::timestamptz AT TIME ZONE $2) - min(
           (date_trunc('minute', $1::timestamptz) + k * interval '1 minute') AT TIME ZONE $2))`,
      )} AS upper
         FROM generate_series(1, 180) AS k
        WHERE isfinite($1::timestamptz)`,
      [upper, this.defaultTimeZone],
    );
    return r.rows[0]?.upper ?? upper;
  }

  /**
   * Waits, up to `limitSeconds`, for the transactions the bound cannot account for: those of other roles whose
   * start is hidden (no pg_read_all_stats), and prepared (two-phase) ones. A prepared transaction has no session
   * in pg_stat_activity, so it never holds the bound, yet COMMIT PREPARED can make its rows visible at any time,
   * with cursor values from its start, long below the bound.
   */
  private async waitForUnseenTransactions(limitSeconds: number, signal?: AbortSignal): Promise<void> {
    let hidden = await this.hiddenTransactions();
    let prepared = await this.preparedTransactions();
    const deadline = Date.now() + limitSeconds * 1000;
    while (hidden.length > 0 || prepared.length > 0) {
      throwIfAborted(signal);
      const hadHidden = hidden.length > 0;
      if (hadHidden) hidden = await this.stillOpen(hidden);
      if (prepared.length > 0 || hadHidden) {
        // A hidden transaction that ended with PREPARE TRANSACTION is now a prepared one, its rows not yet
        // committed (it is listed in pg_prepared_xacts before its virtual id is released): while hidden ones
        // were open, every prepared transaction that appears is waited for too.
        const watched = new Set(prepared.map(preparedKey));
        prepared = (await this.preparedTransactions()).filter(
          (p) => hadHidden || watched.has(preparedKey(p)),
        );
      }
      if (hidden.length === 0 && prepared.length === 0) return;
      if (Date.now() > deadline) {
        throw prepared.length > 0
          ? stillPreparedError(prepared, limitSeconds)
          : new WharfError(
              'CONFLICT',
              `${hidden.length} transaction(s) of other roles are still open after ${limitSeconds}s and their start time is not visible, so rows they commit could be missed (pid ${[...new Set(hidden.map((h) => h.pid))].join(', ')})`,
              {
                hint: 'GRANT pg_read_all_stats TO the ingest role so Wharf can see when they started, or raise --guard-wait',
              },
            );
      }
      await sleep(200, undefined, signal ? { signal } : {});
    }
  }

  /**
   * The open transactions of sessions in this database whose start the ingest role may not see (pg_stat_activity
   * hides xact_start of other roles' sessions without pg_read_all_stats), named by their virtual transaction id.
   *
   * Every transaction holds an exclusive lock on its own virtual id from its first statement to its end, and
   * pg_locks shows it to every role; pg_stat_activity gives the lock holder's database to every role. Virtual,
   * not real transaction ids (pg_current_snapshot, the transactionid locks), because the cursor value a
   * transaction writes is its start (now()), not the moment it writes: one that has only read so far has no
   * transaction id yet, and the one it gets at its first write is newer than any now, yet the rows it writes
   * carry its earlier start, below the bound. (pg_snapshot_xip also leaves out every id at or above the snapshot's
   * xmax, such as the newest one when nothing committed after it.) The lock is released only after the
   * transaction's commit is visible to new snapshots, so the COPY that follows sees its rows. Sessions without a
   * role (autovacuum and other background processes) write no table rows and are left out. The visibility test
   * is PostgreSQL's own (pg_read_all_stats, or the privileges of the session's role), so a session of the
   * ingest role's own, whose start the bound accounts for, is never waited for.
   */
  private async hiddenTransactions(): Promise<HiddenXact[]> {
    const r = await this.client.query<HiddenXact>(
      `SELECT l.pid, l.virtualxid AS vxid FROM pg_stat_activity a
         JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'virtualxid' AND l.mode = 'ExclusiveLock' AND l.granted
        WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.usesysid IS NOT NULL
          AND NOT pg_has_role('pg_read_all_stats', 'USAGE') AND NOT pg_has_role(a.usesysid, 'USAGE')
        ORDER BY l.pid`,
    );
    return r.rows;
  }

  /** Those of `open` still running (a session's next transaction has another virtual id). */
  private async stillOpen(open: readonly HiddenXact[]): Promise<HiddenXact[]> {
    const r = await this.client.query<HiddenXact>(
      `SELECT l.pid, l.virtualxid AS vxid FROM pg_locks l
         JOIN unnest($1::int4[], $2::text[]) AS o(pid, vxid) ON o.pid = l.pid AND o.vxid = l.virtualxid
        WHERE l.locktype = 'virtualxid' AND l.mode = 'ExclusiveLock' AND l.granted
        ORDER BY l.pid`,
      [open.map((h) => h.pid), open.map((h) => h.vxid)],
    );
    return r.rows;
  }

  /**
   * The prepared transactions of this database (pg_prepared_xacts is readable by every role). One leaves the view
   * only after its COMMIT PREPARED (or ROLLBACK PREPARED) is visible to new snapshots. (Its id is not looked up in
   * pg_current_snapshot(): the newest ids are not listed there, being at or above the snapshot's xmax.)
   */
  private async preparedTransactions(): Promise<PreparedXact[]> {
    const r = await this.client.query<PreparedXact>(
      `SELECT transaction::text AS xid, gid, owner::text AS owner, ${INSTANT_SQL('prepared')} AS prepared
         FROM pg_prepared_xacts WHERE database = current_database() ORDER BY prepared, gid`,
    );
    return r.rows;
  }

  /** Base tables of `schema` that have a column named `cursorColumn`, in name order (for --all). */
  async listTables(schema: string, cursorColumn: string): Promise<string[]> {
    const r = await this.client.query<{ name: string }>(
      // Tables and partitioned tables, not their partitions (the parent's rows include theirs).
      `SELECT c.relname AS name FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                       WHERE a.attrelid = c.oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped)
        ORDER BY c.relname`,
      [schema, cursorColumn],
    );
    return r.rows.map((row) => row.name);
  }

  /** Rows in the window (for --dry-run). */
  async countWindow(info: TableInfo, from: string, to: string): Promise<number> {
    await this.setBounds(from, to);
    const r = await this.client.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${this.relation(info)} WHERE ${this.windowPredicate(info)}`,
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  /**
   * Streams the window's rows as COPY CSV into the file `openSink` opens, with constant memory (COPY TO STDOUT
   * via pg-copy-streams, backpressure through the pipeline). `openSink` is called with the first batch before it
   * is written, and not at all when the window is empty; the handle it returns is closed here, on failure too
   * (for a pipe, that is the reader's end of input). Returns rows and bytes.
   */
  async copyWindow(
    info: TableInfo,
    plans: readonly ColumnPlan[],
    from: string,
    to: string,
    openSink: (firstBatch: Buffer) => Promise<FileHandle>,
    options: { signal?: AbortSignal | undefined; onBytes?: (bytes: number) => void } = {},
  ): Promise<{ rows: number; bytes: number }> {
    await this.setBounds(from, to);
    const q = (name: string): string => pg.escapeIdentifier(name);
    const select = [...(csvLeadField(plans) ? ['NULL'] : []), ...plans.map((p) => p.pgExpr(q(p.name)))].join(
      ', ',
    );
    // No ORDER BY: a sort of the whole window costs about a third of the extraction and spills to disk on
    // big windows; the run's (cursor, pk) high-water mark is taken from the written rows instead.
    const sql = `COPY (SELECT ${select} FROM ${this.relation(info)} WHERE ${this.windowPredicate(info)}) TO STDOUT (FORMAT csv)`;
    const stream = this.client.query(copyTo(sql));
    let bytes = 0;
    let reported = 0;
    // COPY arrives in ~10 KiB pieces; writing them in 1 MiB batches halves the CPU the extraction costs
    // (fewer write system calls), which matters on a small machine shared with the database.
    let parts: Buffer[] = [];
    let pending = 0;
    const batch = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes - reported >= PROGRESS_STEP) {
          reported = bytes;
          options.onBytes?.(bytes);
        }
        parts.push(chunk);
        pending += chunk.length;
        if (pending < WRITE_BATCH) return done();
        const out = Buffer.concat(parts, pending);
        parts = [];
        pending = 0;
        done(null, out);
      },
      flush(done) {
        done(null, pending > 0 ? Buffer.concat(parts, pending) : undefined);
      },
    });
    const sink = async (batches: AsyncIterable<Buffer>): Promise<void> => {
      let handle: FileHandle | undefined;
      try {
        for await (const chunk of batches) {
          handle ??= await openSink(chunk);
          await writeAll(handle, chunk);
        }
      } finally {
        await handle?.close();
      }
    };
    try {
      await pipeline(stream, batch, sink, ...((options.signal ? [{ signal: options.signal }] : []) as []));
    } catch (error) {
      // An aborted run stops here and closes the connection anyway.
      if (!options.signal?.aborted) await this.replaceConnection();
      throw error;
    }
    return { rows: stream.rowCount, bytes };
  }

  /**
   * The first row of the window whose `plan` column holds `value` (as COPY sent it; for a LIST column, as one of
   * its elements), named by its primary key (else its cursor) as `id = 7` or `(a, b) = (1, "x")`. Bounded by a
   * statement timeout: it only completes an error message.
   */
  async findRow(
    info: TableInfo,
    plan: ColumnPlan,
    value: string,
    from: string,
    to: string,
  ): Promise<string | undefined> {
    await this.setBounds(from, to);
    const q = pg.escapeIdentifier(plan.name);
    const match = plan.parquetType.endsWith('[]')
      ? `$1 = ANY ((${q})::text[])`
      : `(${plan.pgExpr(q)})::text = $1`;
    const keys = info.primaryKey.length > 0 ? info.primaryKey : [info.cursor.name];
    const select = keys.map((k) => `${pg.escapeIdentifier(k)}::text`).join(', ');
    await this.client.query('BEGIN');
    try {
      await this.client.query("SET LOCAL statement_timeout = '60s'");
      const r = await this.client.query<{ key: (string | null)[] }>(
        `SELECT ARRAY[${select}] AS key FROM ${this.relation(info)} WHERE ${this.windowPredicate(info)} AND ${match} LIMIT 1`,
        [value],
      );
      await this.client.query('COMMIT');
      const key = r.rows[0]?.key;
      if (!key) return undefined;
      const shown = key.map((v) => (v !== null && /^-?\d+$/.test(v) ? v : JSON.stringify(v)));
      return keys.length === 1
        ? `${keys[0] ?? ''} = ${shown[0] ?? ''}`
        : `(${keys.join(', ')}) = (${shown.join(', ')})`;
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  private relation(info: TableInfo): string {
    return `${pg.escapeIdentifier(info.schema)}.${pg.escapeIdentifier(info.table)}`;
  }

  private windowPredicate(info: TableInfo): string {
    const c = pg.escapeIdentifier(info.cursor.name);
    // A scalar subquery is evaluated once (an InitPlan), not per row, and still lets an index on the cursor work.
    const bound = (name: string): string =>
      info.cursor.base === 'timestamptz'
        ? `(SELECT current_setting('wharf.${name}')::timestamptz)`
        : `(SELECT current_setting('wharf.${name}')::timestamptz AT TIME ZONE current_setting('wharf.tz'))`;
    return `${c} >= ${bound('lo')} AND ${c} < ${bound('hi')}`;
  }

  private async setBounds(from: string, to: string): Promise<void> {
    await this.client.query(
      "SELECT set_config('wharf.lo', $1, false), set_config('wharf.hi', $2, false), set_config('wharf.tz', $3, false)",
      [from, to, this.defaultTimeZone],
    );
  }
}

/** An open transaction of a session whose start the ingest role cannot see. */
interface HiddenXact {
  pid: number;
  /** Its virtual transaction id (`procNumber/localXid`), as pg_locks shows it. */
  vxid: string;
}

/** A prepared (two-phase) transaction of the source database, as pg_prepared_xacts shows it. */
interface PreparedXact {
  /** Its transaction id (32-bit). */
  xid: string;
  gid: string;
  owner: string;
  /** When PREPARE TRANSACTION ran (UTC instant); the transaction started earlier, at a time no view shows. */
  prepared: string;
}

const preparedKey = (p: PreparedXact): string => `${p.xid}/${p.prepared}/${p.gid}`;

/** The table cannot run while prepared transactions stay open: their rows may belong to windows already read. */
function stillPreparedError(open: readonly PreparedXact[], limitSeconds: number): WharfError {
  const literal = (gid: string): string => `'${gid.replaceAll("'", "''")}'`;
  const [first] = open;
  const one = open.length === 1 && first !== undefined;
  const what = one
    ? `prepared transaction ${literal(first.gid)} (prepared ${first.prepared} by ${first.owner}) is`
    : `${open.length} prepared transactions (${open.map((p) => literal(p.gid)).join(', ')}) are`;
  return new WharfError(
    'CONFLICT',
    `${what} still open after ${limitSeconds}s; rows ${one ? 'it commits' : 'they commit'} could have cursor values below this window's end and be missed`,
    {
      hint: `finish ${one ? `it with COMMIT PREPARED or ROLLBACK PREPARED ${literal(first.gid)}` : 'them with COMMIT PREPARED or ROLLBACK PREPARED (see pg_prepared_xacts)'}, or raise --guard-wait; nothing was written, the next run reads from the same point`,
    },
  );
}

/** A connected client with the session settings COPY needs, and the session's own TimeZone before them. */
async function openSession(
  config: PgConnectionConfig,
): Promise<{ client: pg.Client; timeZone: string; describe: string }> {
  const client = new pg.Client({
    ...config,
    application_name: 'wharf-ingest',
    connectionTimeoutMillis: config.connectionTimeoutMillis ?? 15_000,
  });
  const describe = describeConnection(client);
  // A broken connection emits 'error'; the failing query rejects with it too, so only keep the process alive.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const tz = await client.query<{ tz: string }>("SELECT current_setting('TimeZone') AS tz");
    await client.query(SESSION_SQL);
    return { client, timeZone: tz.rows[0]?.tz ?? 'UTC', describe };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw connectionError(error, describe);
  }
}

function toWharfErrorOf(error: unknown): WharfError {
  return error instanceof WharfError ? error : new WharfError('INTERNAL', String(error), { cause: error });
}

function describeConnection(client: pg.Client): string {
  return `postgres://${client.user ?? ''}@${client.host ?? 'localhost'}:${client.port ?? 5432}/${client.database ?? ''}`;
}

/** A connection failure as one clear line; never includes the password. */
export function connectionError(error: unknown, describe: string): WharfError {
  if (error instanceof WharfError) return error;
  const e = error as { code?: string; message?: string };
  const message = e.message ?? String(error);
  // pg asks for the password only when the server wants one; with none in the URL, PGPASSWORD or ~/.pgpass,
  // SCRAM fails inside the client with a message about SASL that names nothing the user can change.
  if (/client password must be a (non-empty )?string/.test(message)) {
    return new AccessDeniedError(`PostgreSQL at ${describe} asks for a password and none was given`, {
      cause: error,
      hint: 'set PGPASSWORD, add it to ~/.pgpass, or use --source-file or --source-secret',
    });
  }
  switch (e.code) {
    case '28P01':
    case '28000':
      return new AccessDeniedError(`PostgreSQL refused the login to ${describe}: ${message}`, {
        cause: error,
        hint: 'check the user and password (--source, --source-secret, PGUSER/PGPASSWORD)',
      });
    case '3D000':
      return new NotFoundError(`${message} (${describe})`, { cause: error, hint: 'check the database name' });
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'ECONNRESET':
    case 'EHOSTUNREACH':
      return new NetworkError(`cannot reach PostgreSQL at ${describe} (${e.code})`, {
        cause: error,
        hint: 'check the host and port, and that the database accepts connections from here',
      });
    default:
      // The server hung up before PostgreSQL's handshake was done: another service on that port, or a proxy or
      // firewall that drops the connection.
      if (/Connection terminated unexpectedly/.test(message)) {
        return new NetworkError(`PostgreSQL at ${describe} closed the connection before the login finished`, {
          cause: error,
          hint: 'check that the host and port are those of PostgreSQL (not another service), and that nothing between drops the connection',
        });
      }
      if (/timeout/i.test(message)) {
        return new NetworkError(`cannot reach PostgreSQL at ${describe}: ${message}`, { cause: error });
      }
      return new WharfError('INTERNAL', `PostgreSQL (${describe}): ${message}`, { cause: error });
  }
}
