import type pg from 'pg';
import { loadPg } from './load-pg.js';
import { NotFoundError, WharfError } from '../../core/errors.js';
import type {
  DatasetRecord,
  HistoryEntry,
  RegistryEntry,
  ReleaseAction,
  ReleaseHistoryEntry,
  ReleaseStatus,
  SortField,
} from '../model/dataset.js';
import type { DatasetMetadata } from '../model/metadata.js';
import { quoteIdent, runMigrations, type MigrationReport } from './migrate.js';
import { named, PgAccessCatalog, visibilityCondition } from './pg-access.js';
import { CATALOG_APPLICATION_NAME, EXTENSION_SCHEMA } from './trigram.js';
import type {
  AuditEntry,
  AuditFilter,
  Catalog,
  CatalogSearchHit,
  CatalogTransaction,
  DatasetPatch,
  KeysetPosition,
  ListParams,
  ListResult,
  ManifestEntry,
  NewAuditEntry,
  NewDatasetRow,
  NewHistoryEntry,
  NewReleaseEntry,
  Visibility,
} from './types.js';

export interface PgCatalogOptions {
  /** `postgres://user:password@host:port/database`. */
  connectionString: string;
  /** Schema holding the catalog's tables (created if absent). Default `wharf`. */
  schema?: string | undefined;
  /** Connections in the pool. Default 10. */
  poolSize?: number | undefined;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens the PostgreSQL catalog: runs the migrations (safe when several replicas start at once), then
 * returns a pooled catalog. Every statement is parameterised; identifiers (the schema) are validated and
 * quoted. Sessions run with `TimeZone=UTC` and `DateStyle=ISO` so that timestamps round-trip exactly
 * through pagination keys.
 */
export async function openPgCatalog(options: PgCatalogOptions): Promise<PgCatalog> {
  const schema = options.schema ?? 'wharf';
  if (!SCHEMA_NAME.test(schema)) {
    throw new WharfError('USAGE', `invalid catalog schema name ${JSON.stringify(schema)}`, {
      hint: 'use lower-case letters, digits and underscores, starting with a letter or underscore',
    });
  }
  const setup = new (await loadPg()).Client({
    connectionString: options.connectionString,
    application_name: CATALOG_APPLICATION_NAME,
  });
  let report: MigrationReport;
  try {
    await setup.connect();
    report = await runMigrations(setup, schema);
  } catch (error) {
    if (error instanceof WharfError) throw error;
    throw new WharfError('NETWORK', `cannot prepare the catalog database: ${(error as Error).message}`, {
      cause: error,
      retryable: true,
      hint: 'check the --database URL, that PostgreSQL is running and that the user may create schemas',
    });
  } finally {
    await setup.end().catch(() => undefined);
  }
  // EXTENSION_SCHEMA even when pg_trgm is elsewhere (or absent: PostgreSQL skips a missing schema), so that
  // moving it there later (`trigram.ts`) does not take fuzzy search away from this running catalog.
  const searchPath = [
    ...new Set([schema, EXTENSION_SCHEMA, ...(report.trigramSchema ? [report.trigramSchema] : [])]),
  ]
    .map(quoteIdent)
    .join(',');
  const pool = new (await loadPg()).Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    application_name: CATALOG_APPLICATION_NAME,
    options: `-c search_path=${searchPath} -c TimeZone=UTC -c DateStyle=ISO`,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return new PgCatalog(pool, schema, report);
}

const DATASET_COLUMNS = `id, folder, owner, metadata, version_number, previous_version_id, next_version_id,
  version_reason, release_status, release_approver, release_requester, release_timestamp, revision,
  created_at, updated_at, seq`;

interface DatasetRow {
  id: string;
  folder: string;
  owner: string;
  metadata: DatasetMetadata;
  version_number: number;
  previous_version_id: string | null;
  next_version_id: string | null;
  version_reason: string | null;
  release_status: ReleaseStatus;
  release_approver: string | null;
  release_requester: string | null;
  release_timestamp: Date | null;
  revision: string;
  created_at: Date;
  updated_at: Date;
  seq: string;
}

function toRecord(row: DatasetRow): DatasetRecord {
  const revision = Number(row.revision);
  return {
    id: row.id,
    metadata: row.metadata,
    owner: row.owner,
    folder: row.folder,
    versioning: {
      version: row.version_number,
      previousVersion: row.previous_version_id,
      nextVersion: row.next_version_id,
      reason: row.version_reason,
    },
    release: {
      status: row.release_status,
      approver: row.release_approver,
      requester: row.release_requester,
      timestamp: row.release_timestamp?.toISOString() ?? null,
    },
    revision,
    etag: `"${revision}"`,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

interface HistoryRow {
  history_id: number;
  timestamp: Date;
  reason: string;
  username: string;
  snapshot: DatasetMetadata;
}
const toHistory = (r: HistoryRow): HistoryEntry => ({
  id: r.history_id,
  timestamp: r.timestamp.toISOString(),
  reason: r.reason,
  username: r.username,
  snapshot: r.snapshot,
});

interface RegistryRow {
  id: string;
  kind: RegistryEntry['kind'];
  display_name: string;
  data: RegistryEntry['data'];
  created_at: Date;
  created_by: string;
}
const toRegistry = (r: RegistryRow): RegistryEntry =>
  ({
    id: r.id,
    kind: r.kind,
    displayName: r.display_name,
    data: r.data,
    createdAt: r.created_at.toISOString(),
    createdBy: r.created_by,
  }) as RegistryEntry;

interface ReleaseRow {
  id: string;
  action: ReleaseAction;
  timestamp: Date;
  actor: string;
  approver: string;
  notes: string;
}
const toRelease = (r: ReleaseRow): ReleaseHistoryEntry => ({
  id: Number(r.id),
  action: r.action,
  timestamp: r.timestamp.toISOString(),
  actor: r.actor,
  approver: r.approver,
  notes: r.notes,
});

/** Columns derived from the metadata for sorting, filtering, search and referential integrity. */
function derivedColumns(metadata: DatasetMetadata): unknown[] {
  const info = metadata.datasetInfo;
  return [
    info.name,
    info.keywords.join(' '),
    info.description,
    metadata.associations.organisationId,
    info.publisherId,
    metadata.associations.dataCustodianId ?? null,
  ];
}

/**
 * The words a query looks for, and its excluded terms (`-word`, `-"a phrase"`, as websearch_to_tsquery reads
 * them). The search ORs several forms of the query (english, simple, the last word as a prefix); an excluded
 * term is applied to all of them at once, so that no form brings back what the caller excluded.
 */
export function queryTerms(query: string): { words: string[]; excluded: string[] } {
  const excluded: string[] = [];
  const rest = query.replace(/(^|\s)-+("[^"]*"?|[^\s"-][^\s"]*)/gu, (_, space: string, term: string) => {
    excluded.push(term);
    return space;
  });
  return { words: rest.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [], excluded };
}

/**
 * The words of a query as a `simple` tsquery with the last word as a prefix (`soil & moist:*`), or '' when
 * there is none. A short number as the last word stays whole: `1:*` would expand to every number in the
 * catalog (ids, years, counts) and cost more than the whole search.
 */
function prefixTsquery(words: readonly string[]): string {
  if (words.length === 0) return '';
  const last = words.at(-1)!;
  const prefix = /\p{L}/u.test(last) || last.length >= 3 ? `${last}:*` : last;
  return [...words.slice(0, -1), prefix].join(' & ');
}

/** The SQL expression a sort field orders by, and its type for casting pagination values back. */
const SORT_EXPRESSIONS: Record<SortField, { expr: string; type: string }> = {
  created: { expr: 'created_at', type: 'timestamptz' },
  updated: { expr: 'updated_at', type: 'timestamptz' },
  displayName: { expr: 'name_sort_key(display_name)', type: 'text' },
  releaseTime: { expr: `coalesce(release_timestamp, '-infinity'::timestamptz)`, type: 'timestamptz' },
};

type Queryable = Pick<pg.ClientBase, 'query'>;

class PgTransaction implements CatalogTransaction {
  constructor(
    private readonly db: Queryable,
    /** Users whose system roles this transaction changes (their cached facts are dropped after the commit). */
    readonly changedUsers = new Set<string>(),
  ) {}

  async lockDataset(id: string): Promise<DatasetRecord | undefined> {
    const r = await this.db.query<DatasetRow>(
      `SELECT ${DATASET_COLUMNS} FROM datasets WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return r.rows[0] ? toRecord(r.rows[0]) : undefined;
  }

  async insertDataset(row: NewDatasetRow): Promise<DatasetRecord> {
    const r = await this.db.query<DatasetRow>(
      `INSERT INTO datasets (id, folder, owner, metadata, version_number, previous_version_id, version_reason,
         display_name, keywords_text, description_text, organisation_id, publisher_id, data_custodian_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       RETURNING ${DATASET_COLUMNS}`,
      [
        row.id,
        row.folder,
        row.owner,
        JSON.stringify(row.metadata),
        row.versionNumber,
        row.previousVersion,
        row.versionReason,
        ...derivedColumns(row.metadata),
      ],
    );
    return toRecord(r.rows[0]!);
  }

  async updateDataset(id: string, patch: DatasetPatch): Promise<DatasetRecord> {
    const sets: string[] = ['revision = revision + 1', 'updated_at = clock_timestamp()'];
    const values: unknown[] = [id];
    const param = (value: unknown): string => {
      values.push(value);
      return `$${values.length}`;
    };
    if (patch.metadata) {
      const [name, keywords, description, org, publisher, custodian] = derivedColumns(patch.metadata);
      sets.push(
        `metadata = ${param(JSON.stringify(patch.metadata))}`,
        `display_name = ${param(name)}`,
        `keywords_text = ${param(keywords)}`,
        `description_text = ${param(description)}`,
        `organisation_id = ${param(org)}`,
        `publisher_id = ${param(publisher)}`,
        `data_custodian_id = ${param(custodian)}`,
      );
    }
    if (patch.nextVersion !== undefined) sets.push(`next_version_id = ${param(patch.nextVersion)}`);
    if (patch.release) {
      sets.push(
        `release_status = ${param(patch.release.status)}`,
        `release_approver = ${param(patch.release.approver)}`,
        `release_requester = ${param(patch.release.requester)}`,
      );
      if (patch.release.touchTimestamp) sets.push('release_timestamp = clock_timestamp()');
    }
    const r = await this.db.query<DatasetRow>(
      `UPDATE datasets SET ${sets.join(', ')} WHERE id = $1 RETURNING ${DATASET_COLUMNS}`,
      values,
    );
    if (!r.rows[0]) throw new NotFoundError(`dataset ${id} does not exist`);
    return toRecord(r.rows[0]);
  }

  async appendHistory(datasetId: string, entry: NewHistoryEntry): Promise<HistoryEntry> {
    const r = await this.db.query<HistoryRow>(
      `INSERT INTO metadata_history (dataset_id, history_id, reason, username, snapshot)
       SELECT $1, coalesce(max(history_id), 0) + 1, $2, $3, $4 FROM metadata_history WHERE dataset_id = $1
       RETURNING history_id, timestamp, reason, username, snapshot`,
      [datasetId, entry.reason, entry.username, JSON.stringify(entry.snapshot)],
    );
    return toHistory(r.rows[0]!);
  }

  async getHistoryEntry(datasetId: string, historyId: number): Promise<HistoryEntry | undefined> {
    const r = await this.db.query<HistoryRow>(
      `SELECT history_id, timestamp, reason, username, snapshot FROM metadata_history
       WHERE dataset_id = $1 AND history_id = $2`,
      [datasetId, historyId],
    );
    return r.rows[0] ? toHistory(r.rows[0]) : undefined;
  }

  async insertRegistryEntry(entry: Omit<RegistryEntry, 'createdAt'>): Promise<RegistryEntry> {
    const r = await this.db.query<RegistryRow>(
      `INSERT INTO registry_entries (id, kind, display_name, data, created_by) VALUES ($1, $2, $3, $4, $5)
       RETURNING id, kind, display_name, data, created_at, created_by`,
      [entry.id, entry.kind, entry.displayName, JSON.stringify(entry.data), entry.createdBy],
    );
    return toRegistry(r.rows[0]!);
  }

  async registryKinds(ids: readonly string[]): Promise<Map<string, RegistryEntry['kind']>> {
    const r = await this.db.query<{ id: string; kind: RegistryEntry['kind'] }>(
      'SELECT id, kind FROM registry_entries WHERE id = ANY($1::text[])',
      [[...ids]],
    );
    return new Map(r.rows.map((row) => [row.id, row.kind]));
  }

  async appendReleaseHistory(datasetId: string, entry: NewReleaseEntry): Promise<ReleaseHistoryEntry> {
    const r = await this.db.query<ReleaseRow>(
      `INSERT INTO release_history (dataset_id, action, actor, approver, notes) VALUES ($1, $2, $3, $4, $5)
       RETURNING id, action, timestamp, actor, approver, notes`,
      [datasetId, entry.action, entry.actor, entry.approver, entry.notes],
    );
    return toRelease(r.rows[0]!);
  }

  async insertManifest(
    datasetId: string,
    releaseHistoryId: number,
    entries: readonly ManifestEntry[],
  ): Promise<void> {
    if (entries.length === 0) return;
    await this.db.query(
      `INSERT INTO release_manifests (dataset_id, release_history_id, path, size, sha256)
       SELECT $1, $2, m.path, m.size, m.sha256
       FROM unnest($3::text[], $4::bigint[], $5::text[]) AS m(path, size, sha256)`,
      [
        datasetId,
        releaseHistoryId,
        entries.map((e) => e.path),
        entries.map((e) => e.size),
        entries.map((e) => e.sha256),
      ],
    );
  }

  async isReviewer(username: string): Promise<boolean> {
    const r = await this.db.query('SELECT 1 FROM reviewers WHERE username = $1', [username]);
    return (r.rowCount ?? 0) > 0;
  }

  async addReviewer(username: string, addedBy: string): Promise<boolean> {
    const r = await this.db.query(
      'INSERT INTO reviewers (username, added_by) VALUES ($1, $2) ON CONFLICT (username) DO NOTHING',
      [username, addedBy],
    );
    this.changedUsers.add(username);
    return (r.rowCount ?? 0) > 0;
  }

  async removeReviewer(username: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM reviewers WHERE username = $1', [username]);
    this.changedUsers.add(username);
    return (r.rowCount ?? 0) > 0;
  }

  async audit(entry: NewAuditEntry): Promise<void> {
    await this.db.query(
      'INSERT INTO audit_log (actor, action, target, outcome, details) VALUES ($1, $2, $3, $4, $5)',
      [entry.actor, entry.action, entry.target, entry.outcome, JSON.stringify(entry.details)],
    );
  }
}

export class PgCatalog implements Catalog {
  readonly fuzzySearch: boolean;
  /** Tokens, system roles, groups and dataset grants (for the HTTP service). */
  readonly access: PgAccessCatalog;
  private readonly reader: PgTransaction;

  constructor(
    private readonly pool: pg.Pool,
    /** The schema the catalog lives in. */
    readonly schema: string,
    /** What the start-up migration did. */
    readonly migration: MigrationReport,
  ) {
    this.fuzzySearch = migration.trigram;
    this.reader = new PgTransaction(pool);
    this.access = new PgAccessCatalog(pool);
  }

  async allocateNumber(prefix: string): Promise<number> {
    const r = await this.pool.query<{ last_value: string }>(
      `INSERT INTO id_counters (prefix, last_value) VALUES ($1, 1)
       ON CONFLICT (prefix) DO UPDATE SET last_value = id_counters.last_value + 1
       RETURNING last_value`,
      [prefix],
    );
    return Number(r.rows[0]!.last_value);
  }

  async transaction<T>(work: (tx: CatalogTransaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const tx = new PgTransaction(client);
        const result = await work(tx);
        await client.query('COMMIT');
        for (const username of tx.changedUsers) this.access.invalidateUser(username);
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  async getDataset(id: string): Promise<DatasetRecord | undefined> {
    const r = await this.pool.query<DatasetRow>(
      named(`SELECT ${DATASET_COLUMNS} FROM datasets WHERE id = $1`, [id]),
    );
    return r.rows[0] ? toRecord(r.rows[0]) : undefined;
  }

  async listHistory(datasetId: string): Promise<HistoryEntry[]> {
    const r = await this.pool.query<HistoryRow>(
      `SELECT history_id, timestamp, reason, username, snapshot FROM metadata_history
       WHERE dataset_id = $1 ORDER BY history_id`,
      [datasetId],
    );
    return r.rows.map(toHistory);
  }

  async listReleaseHistory(datasetId: string): Promise<ReleaseHistoryEntry[]> {
    const r = await this.pool.query<ReleaseRow>(
      `SELECT id, action, timestamp, actor, approver, notes FROM release_history WHERE dataset_id = $1 ORDER BY id`,
      [datasetId],
    );
    return r.rows.map(toRelease);
  }

  async latestReleaseRequests(datasetIds: readonly string[]): Promise<Map<string, ReleaseHistoryEntry>> {
    if (datasetIds.length === 0) return new Map();
    // One query for a whole page (the release_history_dataset index, newest entry first per dataset).
    const r = await this.pool.query<ReleaseRow & { dataset_id: string }>(
      `SELECT DISTINCT ON (dataset_id) dataset_id, id, action, timestamp, actor, approver, notes
       FROM release_history WHERE dataset_id = ANY($1::text[]) AND action = 'REQUEST'
       ORDER BY dataset_id, id DESC`,
      [datasetIds],
    );
    return new Map(r.rows.map((row) => [row.dataset_id, toRelease(row)]));
  }

  async getReleaseManifest(releaseHistoryId: number): Promise<ManifestEntry[]> {
    const r = await this.pool.query<{ path: string; size: string; sha256: string }>(
      'SELECT path, size, sha256 FROM release_manifests WHERE release_history_id = $1 ORDER BY path',
      [releaseHistoryId],
    );
    return r.rows.map((row) => ({ path: row.path, size: Number(row.size), sha256: row.sha256 }));
  }

  async listDatasets(params: ListParams): Promise<ListResult> {
    const { expr, type } = SORT_EXPRESSIONS[params.sortBy];
    const direction = params.ascending ? 'ASC' : 'DESC';
    const values: unknown[] = [];
    const param = (value: unknown): string => {
      values.push(value);
      return `$${values.length}`;
    };
    const where: string[] = [];
    if (params.releaseStatus) where.push(`release_status = ${param(params.releaseStatus)}`);
    if (params.approver) where.push(`release_approver = ${param(params.approver)}`);
    if (params.visibleTo) where.push(visibilityCondition('datasets', params.visibleTo, param, 'probe'));
    if (params.after) {
      const op = params.ascending ? '>' : '<';
      where.push(
        `(${expr}, seq) ${op} (${param(params.after.value)}::${type}, ${param(params.after.seq)}::bigint)`,
      );
    }
    const limit = param(params.limit + 1);
    const r = await this.pool.query<DatasetRow & { sort_value: string }>(
      named(
        `SELECT ${DATASET_COLUMNS}, (${expr})::text AS sort_value FROM datasets
         ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY ${expr} ${direction}, seq ${direction}
         LIMIT ${limit}`,
        values,
      ),
    );
    const rows = r.rows.slice(0, params.limit);
    const last = rows.at(-1);
    const next: KeysetPosition | undefined =
      r.rows.length > params.limit && last ? { value: last.sort_value, seq: last.seq } : undefined;
    return next ? { items: rows.map(toRecord), next } : { items: rows.map(toRecord) };
  }

  /**
   * Full-text hits first (an exact id match, then ts_rank, then newest), then — only when there are fewer
   * than `limit` of them — fuzzy hits: each query word of 3+ letters is corrected to the closest words of the
   * dataset names and keywords (trigram similarity against the `search_words` vocabulary, a few thousand
   * rows, not every dataset), and datasets matching the corrected query follow, ranked by ts_rank. The last
   * word also matches as a prefix (search as you type); earlier words match whole (stemmed), so a word in
   * the middle of a query does not expand to every lexeme it starts. Matching and ranking read the narrow
   * `dataset_search` table (migration 3); whole rows are read only for the page.
   */
  async searchDatasets(query: string, limit: number, visibleTo?: Visibility): Promise<CatalogSearchHit[]> {
    const { words, excluded } = queryTerms(query);
    const fuzzyWords = [...new Set(words.filter((w) => w.length >= 3 && w.length <= 40))];
    const fuzzy = this.fuzzySearch && fuzzyWords.length > 0;
    const values: unknown[] = [query, prefixTsquery(words), limit, excluded.join(' or ')];
    if (fuzzy) values.push(fuzzyWords);
    const visible = visibleTo
      ? `AND ${visibilityCondition('d', visibleTo, (v) => {
          values.push(v);
          return `$${values.length}`;
        })}`
      : '';
    // Corrections within 0.15 of a word's best one, so an exact word (similarity 1) stands alone; when no
    // word needs one, the corrected query would find only what full text found: no fuzzy pass at all.
    const fuzzyHits = fuzzy
      ? `UNION ALL (
           SELECT d.id, d.seq, false, ts_rank(d.search_vector, fq.tsq), false, fq.similarity
           FROM dataset_search d, q, fq
           WHERE fq.tsq IS NOT NULL AND d.search_vector @@ fq.tsq
             AND NOT (d.id = $1 OR d.search_vector @@ q.tsq)
             AND NOT coalesce(d.search_vector @@ q.excluded, false) ${visible}
           ORDER BY 4 DESC, 2 DESC
           LIMIT $3)`
      : '';
    const fuzzyQuery = fuzzy
      ? `, candidates AS MATERIALIZED (
           SELECT qw.i, qw.word AS typed, c.word, c.similarity,
                  max(c.similarity) OVER (PARTITION BY qw.i) AS best
           FROM unnest($5::text[]) WITH ORDINALITY AS qw (word, i)
           CROSS JOIN LATERAL (
             SELECT s.word, similarity(s.word, qw.word) AS similarity FROM search_words s
             WHERE s.word % qw.word ORDER BY 2 DESC, 1 LIMIT 3) c
           WHERE (SELECT count(*) FROM ft) < $3
         ), fq AS MATERIALIZED (
           SELECT CASE WHEN bool_and(unchanged) THEN NULL
                       ELSE to_tsquery('english', string_agg('(' || alternatives || ')', ' & ')) END AS tsq,
                  avg(best)::real AS similarity
           FROM (SELECT i, string_agg(word, ' | ') AS alternatives, max(best) AS best,
                        bool_and(word = typed) AS unchanged
                 FROM candidates WHERE similarity >= best - 0.15 GROUP BY i) per_word
         )`
      : '';
    const r = await this.pool.query<
      DatasetRow & { rank: number; fulltext: boolean; similarity: number | null }
    >(
      `WITH q AS MATERIALIZED (
         SELECT websearch_to_tsquery('english', $1) || websearch_to_tsquery('simple', $1)
                || (CASE WHEN $2 = '' THEN ''::tsquery ELSE to_tsquery('simple', $2) END) AS tsq,
                CASE WHEN $4 = '' THEN NULL
                     ELSE websearch_to_tsquery('english', $4) || websearch_to_tsquery('simple', $4) END AS excluded
       ), ft AS MATERIALIZED (
         SELECT d.id, d.seq, (d.id = $1) AS exact, ts_rank(d.search_vector, q.tsq) AS rank
         FROM dataset_search d, q
         WHERE (d.id = $1 OR d.search_vector @@ q.tsq)
           AND NOT coalesce(d.search_vector @@ q.excluded, false) ${visible}
         ORDER BY 3 DESC, 4 DESC, 2 DESC
         LIMIT $3
       )${fuzzyQuery}, hits (id, seq, exact, rank, fulltext, similarity) AS (
         SELECT id, seq, exact, rank, true, NULL::real FROM ft
         ${fuzzyHits}
       )
       SELECT ${DATASET_COLUMNS.replace(/(^|,\s*)(\w+)/g, '$1d.$2')}, h.rank, h.fulltext, h.similarity
       FROM hits h JOIN datasets d ON d.id = h.id
       ORDER BY h.fulltext DESC, h.exact DESC, h.rank DESC, h.seq DESC
       LIMIT $3`,
      values,
    );
    return r.rows.map((row) => ({
      record: toRecord(row),
      score: row.fulltext ? Number(row.rank) : Number(row.similarity ?? 0),
      match: row.fulltext ? 'fulltext' : 'fuzzy',
    }));
  }

  /** Moves whenever a listing or search may show something else (see migration 2). */
  async generation(): Promise<string> {
    const r = await this.pool.query<{ n: string }>(named('SELECT n FROM catalog_generation', []));
    return r.rows[0]!.n;
  }

  async getRegistryEntry(id: string): Promise<RegistryEntry | undefined> {
    const r = await this.pool.query<RegistryRow>(
      'SELECT id, kind, display_name, data, created_at, created_by FROM registry_entries WHERE id = $1',
      [id],
    );
    return r.rows[0] ? toRegistry(r.rows[0]) : undefined;
  }

  async listRegistryEntries(kind: RegistryEntry['kind']): Promise<RegistryEntry[]> {
    const r = await this.pool.query<RegistryRow>(
      `SELECT id, kind, display_name, data, created_at, created_by FROM registry_entries
       WHERE kind = $1 ORDER BY name_sort_key(display_name), id`,
      [kind],
    );
    return r.rows.map(toRegistry);
  }

  async listReviewers(): Promise<string[]> {
    const r = await this.pool.query<{ username: string }>('SELECT username FROM reviewers ORDER BY username');
    return r.rows.map((row) => row.username);
  }

  async listAudit(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    const r = await this.pool.query<{
      id: string;
      at: Date;
      actor: string;
      action: string;
      target: string | null;
      outcome: AuditEntry['outcome'];
      details: Record<string, unknown>;
    }>(
      `SELECT id, at, actor, action, target, outcome, details FROM audit_log
       WHERE ($1::text IS NULL OR target = $1) AND ($3::bigint IS NULL OR id > $3)
         AND ($4::bigint IS NULL OR id < $4)
       ORDER BY id ${filter.order === 'newest' ? 'DESC' : 'ASC'} LIMIT $2`,
      [filter.target ?? null, filter.limit ?? 1000, filter.after ?? null, filter.before ?? null],
    );
    return r.rows.map((row) => ({ ...row, id: Number(row.id), at: row.at.toISOString() }));
  }

  audit(entry: NewAuditEntry): Promise<void> {
    return this.reader.audit(entry);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
