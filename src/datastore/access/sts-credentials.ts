import type { AssumeRoleCommand, STSClient, STSClientConfig } from '@aws-sdk/client-sts';
import { ValidationError, WharfError } from '../../core/errors.js';
import type { S3DatasetCredentials } from '../model/data-access-schemas.js';
import type { ScopedAccess } from './scoped-token.js';
import { buildSessionPolicy } from './session-policy.js';

/** Scoped credentials last 15 min to 12 h (STS's bounds for AssumeRole), default 1 h. */
export const CREDENTIALS_MIN_SECONDS = 900;
export const CREDENTIALS_MAX_SECONDS = 43_200;
export const CREDENTIALS_DEFAULT_SECONDS = 3600;

/** Give up connecting to STS after this long; a whole AssumeRole after REQUEST_TIMEOUT_MS. */
const CONNECT_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 20_000;

export interface StsIssuerOptions {
  /** The role to assume (`wharf serve --sts-role-arn` / WHARF_STS_ROLE_ARN). */
  roleArn: string;
  /** STS endpoint URL; undefined: the SDK's regional AWS endpoint. */
  stsEndpoint: string | undefined;
  region: string;
  /** What the service assumes the role with (its own S3 credentials); default: the SDK's node chain. */
  credentials?: STSClientConfig['credentials'];
  /** The store's bucket. */
  bucket: string;
  /** The store's key prefix inside the bucket: '' or a folder ending in '/'. */
  storePrefix: string;
  /** The S3 endpoint clients should use (null: AWS S3 itself). */
  s3Endpoint: string | null;
}

/**
 * Temporary credentials for one dataset folder: the HTTP answer's S3 fields (the route adds `kind`, `access`
 * and `datasetId`), with the expiry as a Date. `prefix` is `<store prefix><dataset folder>`, ending in '/'.
 */
export type S3ScopedCredentials = Omit<
  S3DatasetCredentials,
  'kind' | 'access' | 'datasetId' | 'expiration'
> & {
  expiration: Date;
};

export interface IssueRequest {
  /** The dataset folder relative to the store (`10378.1-42/`). */
  folder: string;
  access: ScopedAccess;
  durationSeconds: number;
  /** Who asks (part of the role session name, so S3 and CloudTrail logs show it). */
  username: string;
}

/**
 * Issues STS AssumeRole credentials limited by an inline session policy to one dataset folder (see
 * session-policy.ts). The AWS STS client loads on first use. Failures are one-line WharfErrors naming what
 * failed and what to configure; secrets never appear in them.
 */
export class StsCredentialIssuer {
  #client: Promise<{ client: STSClient; AssumeRole: typeof AssumeRoleCommand }> | undefined;

  constructor(private readonly options: StsIssuerOptions) {
    if (!/^arn:[a-z-]+:(iam|sts)::[0-9]*:[A-Za-z0-9+=,.@/_-]+$/.test(options.roleArn)) {
      throw new ValidationError(
        `invalid STS role ARN ${JSON.stringify(options.roleArn)}: expected arn:aws:iam::ACCOUNT:role/NAME`,
        { hint: 'set --sts-role-arn / WHARF_STS_ROLE_ARN' },
      );
    }
    if (options.storePrefix !== '' && !options.storePrefix.endsWith('/')) {
      throw new ValidationError(`the store prefix ${JSON.stringify(options.storePrefix)} must end in '/'`);
    }
  }

  get roleArn(): string {
    return this.options.roleArn;
  }

  async issue(request: IssueRequest): Promise<S3ScopedCredentials> {
    const { durationSeconds, access } = request;
    if (
      !Number.isInteger(durationSeconds) ||
      durationSeconds < CREDENTIALS_MIN_SECONDS ||
      durationSeconds > CREDENTIALS_MAX_SECONDS
    ) {
      throw new ValidationError(
        `durationSeconds must be ${CREDENTIALS_MIN_SECONDS} to ${CREDENTIALS_MAX_SECONDS}, got ${durationSeconds}`,
      );
    }
    const prefix = `${this.options.storePrefix}${request.folder}`;
    const policy = buildSessionPolicy({
      bucket: this.options.bucket,
      prefix,
      access,
      partition: partitionOf(this.options.roleArn),
    });
    const { client, AssumeRole } = await this.client();
    let answer;
    try {
      answer = await client.send(
        new AssumeRole({
          RoleArn: this.options.roleArn,
          RoleSessionName: sessionName(request.username, access),
          Policy: policy,
          DurationSeconds: durationSeconds,
        }),
      );
    } catch (error) {
      throw this.explain(error, durationSeconds);
    }
    const c = answer.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new WharfError(
        'NETWORK',
        `STS AssumeRole of ${this.options.roleArn} answered without credentials`,
        {
          hint: `check the STS endpoint ${this.stsLabel()} (--sts-endpoint / WHARF_STS_ENDPOINT)`,
        },
      );
    }
    return {
      endpoint: this.options.s3Endpoint,
      region: this.options.region,
      bucket: this.options.bucket,
      prefix,
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: new Date(c.Expiration),
    };
  }

  close(): void {
    void this.#client?.then(({ client }) => client.destroy()).catch(() => undefined);
    this.#client = undefined;
  }

  private client() {
    this.#client ??= (async () => {
      const [{ STSClient, AssumeRoleCommand }, { NodeHttpHandler }] = await Promise.all([
        import('@aws-sdk/client-sts'),
        import('@smithy/node-http-handler'),
      ]);
      const client = new STSClient({
        region: this.options.region,
        ...(this.options.stsEndpoint ? { endpoint: this.options.stsEndpoint } : {}),
        ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
        maxAttempts: 2,
        requestHandler: new NodeHttpHandler({
          connectionTimeout: CONNECT_TIMEOUT_MS,
          requestTimeout: REQUEST_TIMEOUT_MS,
        }),
        logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {} },
      });
      return { client, AssumeRole: AssumeRoleCommand };
    })();
    this.#client.catch(() => (this.#client = undefined));
    return this.#client;
  }

  private stsLabel(): string {
    return this.options.stsEndpoint ?? `AWS STS (${this.options.region})`;
  }

  /** One line: what failed, why, and which setting to look at. */
  private explain(error: unknown, durationSeconds: number): WharfError {
    const e = error as {
      name?: string;
      code?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number };
    };
    const status = e.$metadata?.httpStatusCode;
    const role = this.options.roleArn;
    const what = `STS AssumeRole of ${role} at ${this.stsLabel()} failed`;
    const errno = e.code ?? (error as { cause?: { code?: string } }).cause?.code;
    if (status === undefined) {
      const why = errno ?? e.name ?? 'no answer';
      return new WharfError('NETWORK', `${what}: cannot reach STS (${why})`, {
        retryable: true,
        cause: error,
        hint: 'check --sts-endpoint / WHARF_STS_ENDPOINT (default: the S3 endpoint) and that STS is reachable from the server',
      });
    }
    const detail = `${e.name ?? 'error'}${e.message && e.message !== 'UnknownError' ? `: ${e.message}` : ''} (HTTP ${status})`;
    if (status === 404 || e.name === 'NoSuchEntity' || e.name === 'NoSuchEntityException') {
      return new WharfError('NETWORK', `${what}: the role does not exist — ${detail}`, {
        cause: error,
        hint: 'set --sts-role-arn / WHARF_STS_ROLE_ARN to an existing role the server may assume',
      });
    }
    if (status === 403 || e.name === 'AccessDenied') {
      return new WharfError(
        'NETWORK',
        `${what}: the server's credentials may not assume the role — ${detail}`,
        {
          cause: error,
          hint: "allow sts:AssumeRole for the server's identity in the role's trust policy, or change --sts-role-arn",
        },
      );
    }
    if (status === 400 && durationSeconds > CREDENTIALS_DEFAULT_SECONDS) {
      return new ValidationError(
        `${what} for durationSeconds ${durationSeconds}: probably above the role's maximum session duration — ${detail}`,
        { cause: error, hint: `ask for a shorter durationSeconds (default ${CREDENTIALS_DEFAULT_SECONDS})` },
      );
    }
    return new WharfError('NETWORK', `${what}: ${detail}`, {
      retryable: status >= 500,
      cause: error,
      hint: 'check --sts-role-arn / WHARF_STS_ROLE_ARN and --sts-endpoint / WHARF_STS_ENDPOINT',
    });
  }
}

/** `[\w+=,.@-]{2,64}` as STS requires: `wharf-<user>-<access>`. */
export function sessionName(username: string, access: ScopedAccess): string {
  const user = username.replace(/[^\w+=,.@-]/g, '-').slice(0, 64 - 'wharf--write'.length);
  return `wharf-${user}-${access}`;
}

function partitionOf(arn: string): string {
  return arn.split(':')[1] || 'aws';
}
