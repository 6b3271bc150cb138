import { createHash, createHmac } from 'node:crypto';
import { AccessDeniedError, NetworkError, NotFoundError, UsageError, WharfError } from '../core/errors.js';
import type { SecretSource } from './source-config.js';

export interface SecretsManagerOptions {
  region?: string;
  /** Default: AWS_ENDPOINT_URL_SECRETS_MANAGER, else https://secretsmanager.REGION.amazonaws.com. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * AWS Secrets Manager `GetSecretValue` as one signed HTTPS request (Signature V4 with node:crypto), so the
 * ingest feature needs no AWS SDK package. Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, which is what AWS Lambda provides to a function.
 */
export function awsSecretsManager(options: SecretsManagerOptions = {}): SecretSource {
  return {
    async getSecretString(name: string, signal?: AbortSignal): Promise<string> {
      const region =
        options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
      const endpoint =
        options.endpoint ??
        process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ??
        `https://secretsmanager.${region}.amazonaws.com`;
      const credentials = options.credentials ?? envCredentials();
      const url = new URL(endpoint);
      const body = JSON.stringify({ SecretId: name });
      const headers = signRequest({
        url,
        region,
        body,
        credentials,
        target: 'secretsmanager.GetSecretValue',
        now: new Date(),
      });
      let response: Response;
      try {
        // fetch sets Host itself (to the same url.host that was signed).
        const { host: _host, ...sent } = headers;
        response = await fetch(url, { method: 'POST', headers: sent, body, ...(signal ? { signal } : {}) });
      } catch (error) {
        throw new NetworkError(
          `cannot reach Secrets Manager at ${url.origin} to read secret ${JSON.stringify(name)}${reasonOf(error)}`,
          {
            cause: error,
            hint: 'check the network and AWS_REGION; set AWS_ENDPOINT_URL_SECRETS_MANAGER for another endpoint, or give the database with --source or --source-file instead',
          },
        );
      }
      const text = await response.text();
      if (!response.ok) {
        const type = (safeJson(text)?.__type as string | undefined) ?? `HTTP ${response.status}`;
        const message = `Secrets Manager refused secret ${JSON.stringify(name)}: ${type.replace(/^.*#/, '')}`;
        if (/ResourceNotFound/.test(type)) throw new NotFoundError(message);
        if (response.status === 400 || response.status === 403)
          throw new AccessDeniedError(message, { hint: 'check the AWS credentials and the secret’s policy' });
        throw new WharfError('INTERNAL', message, { retryable: response.status >= 500 });
      }
      const secret = safeJson(text)?.SecretString;
      if (typeof secret !== 'string')
        throw new WharfError('INTERNAL', `secret ${JSON.stringify(name)} has no SecretString`);
      return secret;
    },
  };
}

function envCredentials(): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new UsageError(
      '--source-secret needs AWS credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    );
  }
  const sessionToken = process.env.AWS_SESSION_TOKEN;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** fetch's "fetch failed" says nothing; its cause (ENOTFOUND, ECONNREFUSED, a timeout) does. */
function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const reason = typeof cause?.code === 'string' ? cause.code : cause?.message;
  return typeof reason === 'string' && reason !== '' ? ` (${reason})` : '';
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** Signature V4 headers for a JSON 1.1 POST to `/`. Exported for the unit test. */
export function signRequest(input: {
  url: URL;
  region: string;
  body: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  target: string;
  now: Date;
}): Record<string, string> {
  const amzDate = input.now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host: input.url.host,
    'x-amz-date': amzDate,
    'x-amz-target': input.target,
    ...(input.credentials.sessionToken ? { 'x-amz-security-token': input.credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    'POST',
    input.url.pathname || '/',
    '',
    ...names.map((n) => `${n}:${headers[n]}`),
    '',
    names.join(';'),
    sha256(input.body),
  ].join('\n');
  const scope = `${date}/${input.region}/secretsmanager/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${input.credentials.secretAccessKey}`, date), input.region), 'secretsmanager'),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}
