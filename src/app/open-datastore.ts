import { isWharfError } from '../core/errors.js';
import { asFolderPrefix } from '../core/keys.js';
import { parseLocation } from '../core/location.js';
import { OidcVerifier } from '../datastore/access/oidc.js';
import type { StsCredentialIssuer } from '../datastore/access/sts-credentials.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../datastore/catalog/embedded-postgres.js';
import { openPgCatalog, type PgCatalog } from '../datastore/catalog/pg-catalog.js';
import type { AccessCatalog } from '../datastore/catalog/types.js';
import { DatastoreService } from '../datastore/service/datastore-service.js';
import { ServiceStore } from '../datastore/service/service-store.js';
import { openStorage } from '../storage/registry.js';
import type { StorageDriver } from '../storage/types.js';
import { probeStore } from '../storage/probe.js';
import { ADMIN_USERNAME, ENV_ADMIN_TOKEN_ID, generateApiToken, hashApiToken } from './api-tokens.js';
import { redactUrl, type DatastoreConfig } from './datastore-config.js';
import { makeDir } from '../core/make-dir.js';

/** The datastore's parts, composed from a configuration; `close()` releases them in reverse order. */
export interface OpenedDatastore {
  config: DatastoreConfig;
  service: DatastoreService;
  catalog: PgCatalog;
  access: AccessCatalog;
  store: StorageDriver;
  /** STS issuer of scoped S3 credentials (S3 store with an STS role configured). */
  sts: StsCredentialIssuer | undefined;
  /** OIDC JWT verifier (a JWKS URL configured). */
  oidc: OidcVerifier | undefined;
  /** Where the catalog and the store are, and how data access works, for the start-up message (no passwords). */
  describe: { database: string; store: string; credentials: string; oidc: string | undefined };
  /**
   * The admin token when this start created one (a fresh catalog without WHARF_ADMIN_TOKEN): the only
   * time it is ever shown.
   */
  createdAdminToken: string | undefined;
  close(): Promise<void>;
}

/**
 * Opens store, catalog (embedded PostgreSQL unless a database URL is configured; migrations run here) and
 * the service, and makes sure an administrator can get in: WHARF_ADMIN_TOKEN is stored as the `admin`
 * token; otherwise a fresh catalog gets a generated admin token, returned once.
 */
export async function openDatastore(config: DatastoreConfig): Promise<OpenedDatastore> {
  const cleanup: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const step of cleanup.reverse().splice(0)) await step().catch(() => undefined);
  };
  try {
    const location = parseLocation(config.store);
    if (location.kind === 'local') await makeDir(location.path);
    const opened = await openStorage(location, config.storage);
    cleanup.push(async () => {
      await opened.close?.();
    });
    // Fail at start, not at the first upload, on a missing bucket or refused credentials. A store that does not
    // answer yet may come up later: the service starts and /health says what is wrong meanwhile.
    await probeStore(opened).catch((error: unknown) => {
      if (!(isWharfError(error) && error.code === 'NETWORK')) throw error;
    });
    // From here on a refusal of the store's credentials is the service's problem (503), not its callers'.
    const store = new ServiceStore(opened);
    let databaseUrl: string;
    let embedded: EmbeddedPostgres | undefined;
    if (config.database.kind === 'embedded') {
      embedded = await startEmbeddedPostgres({ dataDir: config.database.dataDir });
      cleanup.push(() => embedded!.stop());
      databaseUrl = embedded.url;
    } else {
      databaseUrl = config.database.url;
    }
    const catalog = await openPgCatalog({ connectionString: databaseUrl, schema: config.schema });
    cleanup.push(() => catalog.close());
    const service = new DatastoreService({ catalog, store, idPrefix: config.idPrefix });

    let sts: StsCredentialIssuer | undefined;
    let credentials = 'scoped credentials: wds_ tokens for the file routes';
    if (config.sts && location.kind === 's3') {
      // The AWS SDK is already loaded for the S3 store; STS assumes the role with the store's own credentials.
      const [{ resolveS3Options }, { createCredentials }, { StsCredentialIssuer }] = await Promise.all([
        import('../storage/s3/s3-options.js'),
        import('../storage/s3/s3-client.js'),
        import('../datastore/access/sts-credentials.js'),
      ]);
      const resolved = await resolveS3Options({ ...config.storage.s3, bucket: location.bucket });
      const issuer = new StsCredentialIssuer({
        roleArn: config.sts.roleArn,
        stsEndpoint: config.sts.endpoint ?? resolved.endpoint,
        region: resolved.region,
        credentials: createCredentials(resolved),
        bucket: location.bucket,
        storePrefix: asFolderPrefix(location.key),
        s3Endpoint: resolved.endpoint ?? null,
      });
      cleanup.push(async () => issuer.close());
      sts = issuer;
      const stsEndpoint = config.sts.endpoint ?? resolved.endpoint ?? `AWS STS (${resolved.region})`;
      credentials = `scoped credentials: STS AssumeRole of ${config.sts.roleArn} at ${stsEndpoint}`;
    }
    const oidc = config.oidc ? new OidcVerifier(config.oidc) : undefined;

    let createdAdminToken: string | undefined;
    if (config.adminToken !== undefined) {
      await catalog.access.upsertAdminToken({
        tokenId: ENV_ADMIN_TOKEN_ID,
        hash: hashApiToken(config.adminToken),
        username: ADMIN_USERNAME,
        name: 'WHARF_ADMIN_TOKEN',
        expiresAt: null,
      });
    } else {
      const generated = generateApiToken();
      const created = await catalog.access.bootstrapAdminToken({
        tokenId: generated.tokenId,
        hash: generated.hash,
        username: ADMIN_USERNAME,
        name: 'first-start admin token',
        expiresAt: null,
      });
      if (created) createdAdminToken = generated.token;
    }
    return {
      config,
      service,
      catalog,
      access: catalog.access,
      store,
      sts,
      oidc,
      describe: {
        database: embedded
          ? `embedded PostgreSQL in ${config.database.kind === 'embedded' ? config.database.dataDir : ''}/postgres (port ${embedded.port})`
          : redactUrl(databaseUrl),
        store: config.store,
        credentials,
        oidc: config.oidc ? `OIDC: JWTs verified against ${config.oidc.jwksUrl}` : undefined,
      },
      createdAdminToken,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
