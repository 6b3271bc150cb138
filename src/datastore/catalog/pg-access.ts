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
 */
export function visibilityCondition(
  alias: string,
  visibility: Visibility,
  param: (value: unknown) => string,
): string {
  if (visibility.username === null) return `${alias}.metadata_public`;
  const user = param(visibility.username);
  return `(${alias}.metadata_public OR ${alias}.owner = ${user} OR EXISTS (
    SELECT 1 FROM dataset_grants g WHERE g.dataset_id = ${alias}.id AND (
      (g.principal_kind = 'user' AND g.principal = ${user}) OR
      (g.principal_kind = 'group' AND g.principal IN (SELECT group_name FROM group_members WHERE username = ${user})))))`;
}

/** AccessCatalog over the catalog's pool (same schema and session settings). */
export class PgAccessCatalog implements AccessCatalog {
  constructor(private readonly pool: pg.Pool) {}

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
    const r = await this.pool.query<TokenRow & { stale: boolean }>(
      `SELECT ${TOKEN_COLUMNS},
              (last_used_at IS NULL OR last_used_at < now() - ${LAST_USED_RESOLUTION}) AS stale
       FROM api_tokens
       WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
      [hash],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    if (row.stale) {
      await this.pool.query('UPDATE api_tokens SET last_used_at = now() WHERE token_id = $1', [row.token_id]);
    }
    return toToken(row);
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
    const r = await this.pool.query(
      'UPDATE api_tokens SET revoked_at = now() WHERE token_id = $1 AND revoked_at IS NULL',
      [tokenId],
    );
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
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async userFacts(username: string): Promise<UserFacts> {
    const r = await this.pool.query<{ roles: SystemRole[]; groups: string[] }>(
      `SELECT
         ARRAY(SELECT role FROM system_roles WHERE username = $1
               UNION SELECT 'reviewer' FROM reviewers WHERE username = $1 ORDER BY 1) AS roles,
         ARRAY(SELECT group_name FROM group_members WHERE username = $1 ORDER BY 1) AS groups`,
      [username],
    );
    const row = r.rows[0]!;
    return { systemRoles: row.roles, groups: row.groups };
  }

  async grantSystemRole(username: string, role: 'sys-admin', grantedBy: string): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO system_roles (username, role, granted_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [username, role, grantedBy],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async revokeSystemRole(username: string, role: 'sys-admin'): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM system_roles WHERE username = $1 AND role = $2', [
      username,
      role,
    ]);
    return (r.rowCount ?? 0) > 0;
  }

  async addGroupMember(group: string, username: string): Promise<boolean> {
    const r = await this.pool.query(
      'INSERT INTO group_members (group_name, username) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [group, username],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async removeGroupMember(group: string, username: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM group_members WHERE group_name = $1 AND username = $2', [
      group,
      username,
    ]);
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
      `SELECT d.owner, d.metadata_public, d.release_approver,
         (SELECT g.role FROM dataset_grants g
          WHERE g.dataset_id = d.id AND $2::text IS NOT NULL AND (
            (g.principal_kind = 'user' AND g.principal = $2) OR
            (g.principal_kind = 'group' AND g.principal IN (SELECT group_name FROM group_members WHERE username = $2)))
          ORDER BY array_position(${ROLE_ORDER}, g.role) DESC LIMIT 1) AS granted_role
       FROM datasets d WHERE d.id = $1`,
      [datasetId, username],
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
