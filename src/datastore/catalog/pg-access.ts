import { createHash } from 'node:crypto';
import type pg from 'pg';
import type {
  AccessCatalog,
  ApiTokenInfo,
  DatasetAccessFacts,
  DatasetGrant,
  DatasetRole,
  NewApiToken,
  PrincipalKind,
  SystemRole,
  UserFacts,
  Visibility,
} from './types.js';

/** The strongest role first, as SQL: `array_position` of a role in it orders roles. */
const ROLE_ORDER = `ARRAY['metadata-read','metadata-write','data-read','data-write','admin']`;
/** Token usage is recorded at most this often per token (a write per request would be wasteful). */
const LAST_USED_RESOLUTION = `interval '60 seconds'`;
const BOOTSTRAP_LOCK = `hashtext('wharf.datastore.bootstrap-admin-token')`;
/**
 * How long one process reuses a token lookup and a user's system roles and groups (every authenticated
 * request needs both). Changes made through this process (revoking a token, granting sys-admin, group
 * membership, the reviewer pool) take effect at once; changes made through another replica within this
 * time: at most this late. A token's expiry is checked on every use.
 */
export const AUTH_CACHE_MS = 1000;

interface TokenRow {
  token_id: string;
  username: string;
  name: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}
const TOKEN_COLUMNS = 'token_id, username, name, created_at, expires_at, revoked_at, last_used_at';

function toToken(row: TokenRow): ApiTokenInfo {
  return {
    tokenId: row.token_id,
    username: row.username,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}

/**
 * SQL condition: the dataset (table alias `alias`) is readable by the user — they own it, they or one of
 * their groups hold any grant on it (every role implies metadata-read), or it is metadata-public.
 *
 * Two plans for the grants: `hash` (default) reads the user's and their groups' grants once per query (two
 * index scans) and hashes them — best when many rows are checked (search ranks every hit). `probe` looks up
 * each row's grants by the dataset's primary-key prefix — best when the query stops early (a list page walks
 * an index only until the page is full, while hashing costs as much as the user has grants).
 */
export function visibilityCondition(
  alias: string,
  visibility: Visibility,
  param: (value: unknown) => string,
  plan: 'hash' | 'probe' = 'hash',
): string {
  if (visibility.username === null) return `${alias}.metadata_public`;
  const user = param(visibility.username);
  const groups =
    visibility.groups === undefined
      ? `SELECT group_name FROM group_members WHERE username = ${user}`
      : `SELECT unnest(${param([...visibility.groups])}::text[])`;
  if (plan === 'probe') {
    // A scalar subquery with LIMIT: PostgreSQL cannot turn it into a hashed semi-join as it does with EXISTS.
    return `(${alias}.metadata_public OR ${alias}.owner = ${user} OR coalesce((
      SELECT true FROM dataset_grants g WHERE g.dataset_id = ${alias}.id AND (
        (g.principal_kind = 'user' AND g.principal = ${user}) OR
        (g.principal_kind = 'group' AND g.principal IN (${groups}))) LIMIT 1), false))`;
  }
  // Not one EXISTS with an OR inside: that gets planned as a filter over every group grant of everyone.
  return `(${alias}.metadata_public OR ${alias}.owner = ${user} OR ${alias}.id IN (
    SELECT g.dataset_id FROM dataset_grants g WHERE g.principal_kind = 'user' AND g.principal = ${user}
    UNION ALL
    SELECT g.dataset_id FROM dataset_grants g WHERE g.principal_kind = 'group' AND g.principal IN (${groups})))`;
}

const statementNames = new Map<string, string>();

/**
 * A named query for the hot read paths: node-postgres prepares it once per connection, so PostgreSQL parses
 * it once and may reuse its plan — planning took longer than running these indexed reads. Only for
 * statements whose text comes in a few shapes. (Named statements need session pooling if a pooler such as
 * pgbouncer sits in between.)
 */
export function named(text: string, values: unknown[]): pg.QueryConfig {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `wharf_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}

/** A small map whose entries expire after `ttlMs` (checked on read; at most `max` entries). */
class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  get(key: K): V | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.until > Date.now()) return hit.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: K, value: V): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
  }

  delete(predicate: (key: K, value: V) => boolean): void {
    for (const [key, { value }] of this.entries) if (predicate(key, value)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * AccessCatalog over the catalog's pool (same schema and session settings). Token lookups and user facts are
 * cached for `cacheMs` (default AUTH_CACHE_MS; 0: off) — see AUTH_CACHE_MS for what that means for revocation.
 */
export class PgAccessCatalog implements AccessCatalog {
  private readonly tokens: TtlCache<string, ApiTokenInfo>;
  private readonly facts: TtlCache<string, UserFacts>;

  constructor(
    private readonly pool: pg.Pool,
    cacheMs: number = AUTH_CACHE_MS,
  ) {
    this.tokens = new TtlCache(cacheMs);
    this.facts = new TtlCache(cacheMs);
  }

  /** Forget cached facts about `username` (their roles or groups changed), or about everyone. */
  invalidateUser(username?: string): void {
    if (username === undefined) this.facts.clear();
    else this.facts.delete((key) => key === username);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async sharedSetting(key: string, create: () => string): Promise<string> {
    await this.pool.query(
      'INSERT INTO service_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING',
      [key, JSON.stringify(create())],
    );
    const r = await this.pool.query<{ value: unknown }>('SELECT value FROM service_settings WHERE key = $1', [
      key,
    ]);
    const value = r.rows[0]?.value;
    if (typeof value !== 'string') throw new Error(`service setting ${key} is not a string`);
    return value;
  }

  async createToken(token: NewApiToken): Promise<ApiTokenInfo> {
    const r = await this.pool.query<TokenRow>(
      `INSERT INTO api_tokens (token_id, token_hash, username, name, expires_at) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${TOKEN_COLUMNS}`,
      [token.tokenId, token.hash, token.username, token.name, token.expiresAt],
    );
    return toToken(r.rows[0]!);
  }

  async findActiveToken(hash: Buffer): Promise<ApiTokenInfo | undefined> {
    const key = hash.toString('hex');
    const cached = this.tokens.get(key);
    if (cached && (cached.expiresAt === null || Date.parse(cached.expiresAt) > Date.now())) return cached;
    const r = await this.pool.query<TokenRow & { stale: boolean }>(
      named(
        `SELECT ${TOKEN_COLUMNS},
                (last_used_at IS NULL OR last_used_at < now() - ${LAST_USED_RESOLUTION}) AS stale
         FROM api_tokens
         WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
        [hash],
      ),
    );
    const row = r.rows[0];
    if (!row) return undefined;
    if (row.stale) {
      await this.pool.query('UPDATE api_tokens SET last_used_at = now() WHERE token_id = $1', [row.token_id]);
    }
    const info = toToken(row);
    this.tokens.set(key, info);
    return info;
  }

  async listTokens(username?: string): Promise<ApiTokenInfo[]> {
    const r = await this.pool.query<TokenRow>(
      `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE ($1::text IS NULL OR username = $1)
       ORDER BY created_at, token_id`,
      [username ?? null],
    );
    return r.rows.map(toToken);
  }

  async getToken(tokenId: string): Promise<ApiTokenInfo | undefined> {
    const r = await this.pool.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE token_id = $1`, [
      tokenId,
    ]);
    return r.rows[0] ? toToken(r.rows[0]) : undefined;
  }

  async revokeToken(tokenId: string): Promise<boolean> {
    this.tokens.delete((_, info) => info.tokenId === tokenId);
    const r = await this.pool.query(
      'UPDATE api_tokens SET revoked_at = now() WHERE token_id = $1 AND revoked_at IS NULL',
      [tokenId],
    );
    // Again after the change: a request that read the token while it was being revoked cached it.
    this.tokens.delete((_, info) => info.tokenId === tokenId);
    return (r.rowCount ?? 0) > 0;
  }

  async bootstrapAdminToken(token: NewApiToken): Promise<boolean> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`);
      const any = await client.query('SELECT 1 FROM api_tokens LIMIT 1');
      if ((any.rowCount ?? 0) > 0) {
        await client.query('ROLLBACK');
        return false;
      }
      await insertAdminToken(client, token);
      await client.query('COMMIT');
      this.invalidateUser(token.username);
      return true;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async upsertAdminToken(token: NewApiToken): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`);
      // The same secret may already be stored under another id; the hash is unique.
      await client.query('DELETE FROM api_tokens WHERE token_id = $1 OR token_hash = $2', [
        token.tokenId,
        token.hash,
      ]);
      await insertAdminToken(client, token);
      await client.query('COMMIT');
      this.tokens.clear();
      this.facts.clear();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async userFacts(username: string): Promise<UserFacts> {
    const cached = this.facts.get(username);
    if (cached) return { systemRoles: [...cached.systemRoles], groups: [...cached.groups] };
    const r = await this.pool.query<{ roles: SystemRole[]; groups: string[] }>(
      named(
        `SELECT
           ARRAY(SELECT role FROM system_roles WHERE username = $1
                 UNION SELECT 'reviewer' FROM reviewers WHERE username = $1 ORDER BY 1) AS roles,
           ARRAY(SELECT group_name FROM group_members WHERE username = $1 ORDER BY 1) AS groups`,
        [username],
      ),
    );
    const row = r.rows[0]!;
    this.facts.set(username, { systemRoles: [...row.roles], groups: [...row.groups] });
    return { systemRoles: row.roles, groups: row.groups };
  }

  async grantSystemRole(username: string, role: 'sys-admin', grantedBy: string): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO system_roles (username, role, granted_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [username, role, grantedBy],
    );
    this.invalidateUser(username);
    return (r.rowCount ?? 0) > 0;
  }

  async revokeSystemRole(username: string, role: 'sys-admin'): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM system_roles WHERE username = $1 AND role = $2', [
      username,
      role,
    ]);
    this.invalidateUser(username);
    return (r.rowCount ?? 0) > 0;
  }

  async addGroupMember(group: string, username: string): Promise<boolean> {
    const r = await this.pool.query(
      'INSERT INTO group_members (group_name, username) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [group, username],
    );
    this.invalidateUser(username);
    return (r.rowCount ?? 0) > 0;
  }

  async removeGroupMember(group: string, username: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM group_members WHERE group_name = $1 AND username = $2', [
      group,
      username,
    ]);
    this.invalidateUser(username);
    return (r.rowCount ?? 0) > 0;
  }

  async listGroupMembers(group: string): Promise<string[]> {
    const r = await this.pool.query<{ username: string }>(
      'SELECT username FROM group_members WHERE group_name = $1 ORDER BY username',
      [group],
    );
    return r.rows.map((row) => row.username);
  }

  async datasetAccessFacts(
    datasetId: string,
    username: string | null,
  ): Promise<DatasetAccessFacts | undefined> {
    const r = await this.pool.query<{
      owner: string;
      metadata_public: boolean;
      release_approver: string | null;
      granted_role: DatasetRole | null;
    }>(
      named(
        `SELECT d.owner, d.metadata_public, d.release_approver,
         (SELECT g.role FROM dataset_grants g
          WHERE g.dataset_id = d.id AND $2::text IS NOT NULL AND (
            (g.principal_kind = 'user' AND g.principal = $2) OR
            (g.principal_kind = 'group' AND g.principal IN (SELECT group_name FROM group_members WHERE username = $2)))
          ORDER BY array_position(${ROLE_ORDER}, g.role) DESC LIMIT 1) AS granted_role
       FROM datasets d WHERE d.id = $1`,
        [datasetId, username],
      ),
    );
    const row = r.rows[0];
    if (!row) return undefined;
    return {
      owner: row.owner,
      metadataPublic: row.metadata_public,
      grantedRole: row.granted_role,
      releaseApprover: row.release_approver,
    };
  }

  async listDatasetGrants(datasetId: string): Promise<DatasetGrant[]> {
    const r = await this.pool.query<{
      principal_kind: PrincipalKind;
      principal: string;
      role: DatasetRole;
      granted_by: string;
      granted_at: Date;
    }>(
      `SELECT principal_kind, principal, role, granted_by, granted_at FROM dataset_grants
       WHERE dataset_id = $1 ORDER BY principal_kind, principal`,
      [datasetId],
    );
    return r.rows.map((row) => ({
      principalKind: row.principal_kind,
      principal: row.principal,
      role: row.role,
      grantedBy: row.granted_by,
      grantedAt: row.granted_at.toISOString(),
    }));
  }

  async grantDatasetRole(
    datasetId: string,
    principalKind: PrincipalKind,
    principal: string,
    role: DatasetRole,
    grantedBy: string,
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO dataset_grants (dataset_id, principal_kind, principal, role, granted_by)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (dataset_id, principal_kind, principal)
       DO UPDATE SET role = EXCLUDED.role, granted_by = EXCLUDED.granted_by, granted_at = now()`,
      [datasetId, principalKind, principal, role, grantedBy],
    );
  }

  async revokeDatasetRole(
    datasetId: string,
    principalKind: PrincipalKind,
    principal: string,
  ): Promise<boolean> {
    const r = await this.pool.query(
      'DELETE FROM dataset_grants WHERE dataset_id = $1 AND principal_kind = $2 AND principal = $3',
      [datasetId, principalKind, principal],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async setMetadataPublic(datasetId: string, value: boolean): Promise<void> {
    // Not a change of the record (no revision bump): access is not part of the dataset's metadata.
    await this.pool.query('UPDATE datasets SET metadata_public = $2 WHERE id = $1', [datasetId, value]);
  }

  async copyDatasetAccess(fromId: string, toId: string, grantedBy: string): Promise<void> {
    await this.pool.query(
      `WITH src AS (SELECT metadata_public FROM datasets WHERE id = $1)
       UPDATE datasets SET metadata_public = src.metadata_public FROM src WHERE id = $2`,
      [fromId, toId],
    );
    await this.pool.query(
      `INSERT INTO dataset_grants (dataset_id, principal_kind, principal, role, granted_by)
       SELECT $2, principal_kind, principal, role, $3 FROM dataset_grants WHERE dataset_id = $1
       ON CONFLICT DO NOTHING`,
      [fromId, toId, grantedBy],
    );
  }
}

async function insertAdminToken(client: pg.PoolClient, token: NewApiToken): Promise<void> {
  await client.query(
    `INSERT INTO api_tokens (token_id, token_hash, username, name, expires_at) VALUES ($1, $2, $3, $4, $5)`,
    [token.tokenId, token.hash, token.username, token.name, token.expiresAt],
  );
  await client.query(
    `INSERT INTO system_roles (username, role, granted_by) VALUES ($1, 'sys-admin', 'bootstrap')
     ON CONFLICT DO NOTHING`,
    [token.username],
  );
}
