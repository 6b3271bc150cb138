import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { UsageError } from '../../core/errors.js';
import { awsConfigFilePath, readAwsProfileSettings } from './aws-config-file.js';

/** Credentials given directly: a static identity or a provider function, as the AWS SDK accepts them. */
export type S3Credentials = NonNullable<S3ClientConfig['credentials']>;

export type ChecksumMode = 'when_supported' | 'when_required';

/** How to reach one bucket. Everything but `bucket` is optional and falls back to the usual AWS places. */
export interface S3DriverOptions {
  /** Bucket name (3-63 characters). */
  bucket: string;
  /**
   * Endpoint URL of an S3-compatible server, e.g. `http://127.0.0.1:7480`.
   * Default: `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`, then `endpoint_url` of the profile in the shared
   * config file (or its `services` section); none of those means AWS S3 itself.
   */
  endpoint?: string | undefined;
  /** Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else `us-east-1`. */
  region?: string | undefined;
  /** Named profile in `~/.aws/credentials` / `~/.aws/config`. Default: `AWS_PROFILE`, else `default`. */
  profile?: string | undefined;
  /**
   * Path-style URLs (`https://host/bucket/key`) instead of virtual-hosted ones (`https://bucket.host/key`).
   * Default: true with a custom (non-AWS) endpoint, false on AWS; the profile's `s3 = addressing_style` is honoured.
   */
  forcePathStyle?: boolean | undefined;
  /** Most concurrent HTTP connections to the endpoint. Default 256 (as many as fetch runs files at once). */
  maxSockets?: number | undefined;
  /**
   * When the SDK adds request checksums and validates response checksums.
   * `when_supported` (AWS default) sends streamed bodies as `aws-chunked` with a CRC32 trailer, which older
   * S3-compatible servers (Ceph RGW 16 answers 411) refuse; `when_required` only checksums where the API demands it.
   * Default: `AWS_REQUEST_CHECKSUM_CALCULATION` / `request_checksum_calculation` if set, else `when_required`
   * with a custom endpoint and `when_supported` on AWS.
   */
  checksumMode?: ChecksumMode | undefined;
  /** Attempts per request including the first (the SDK's standard retry strategy). Default 3. */
  maxAttempts?: number | undefined;
  /** Explicit credentials; default: the SDK's node credential chain (env vars, profile, SSO, container, IMDS). */
  credentials?: S3Credentials | undefined;
  /**
   * Send plain GetObject requests (`read`) and ListObjectsV2 pages (`list`) on a lean path: signed by a SigV4 signer
   * checked against the SDK's and sent with `node:http` on the client's connection pool, skipping the SDK's
   * middleware stack and XML deserialiser (about half the client CPU of a small GET, and most of a listing's). Used
   * only where the SDK would send the same request (checked once per driver against a URL the SDK presigns) and
   * where it would not validate response checksums; everything else stays on the SDK. Errors, retries and `onInfo`
   * are the same either way (a listing that fails on the lean path is sent again through the SDK). Default true.
   */
  fastGet?: boolean | undefined;
}

/** Options with every default applied, plus where things came from (for messages). */
export interface ResolvedS3Options {
  bucket: string;
  /** Normalised endpoint URL, or undefined for AWS S3's regional endpoint. */
  endpoint: string | undefined;
  /** Where the endpoint came from, e.g. `AWS_ENDPOINT_URL`. */
  endpointSource: string | undefined;
  /** True when talking to AWS S3 itself (no endpoint, or an amazonaws.com one). */
  isAws: boolean;
  region: string;
  /** The profile passed explicitly in the options (undefined when it comes from AWS_PROFILE or is `default`). */
  profile: string | undefined;
  forcePathStyle: boolean;
  maxSockets: number;
  maxAttempts: number;
  requestChecksumCalculation: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  responseChecksumValidation: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  credentials: S3Credentials | undefined;
  /** Human description of the credential source, e.g. `environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`. */
  credentialSource: string;
  /** Human label for the endpoint in messages: the URL, or `AWS S3 (us-east-1)`. */
  endpointLabel: string;
  /** Whether `read` may use the lean GetObject path (see S3DriverOptions.fastGet). */
  fastGet: boolean;
}

export const DEFAULT_MAX_SOCKETS = 256;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_REGION = 'us-east-1';

/**
 * Applies defaults from the options, the environment and the shared config file, and validates eagerly.
 * Throws UsageError naming the bad value and where it came from.
 */
export async function resolveS3Options(
  options: S3DriverOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedS3Options> {
  const bucket = options.bucket;
  if (typeof bucket !== 'string' || bucket.length < 3 || bucket.length > 63 || /[/\s]/.test(bucket)) {
    throw new UsageError(
      `invalid bucket name ${JSON.stringify(bucket)}: bucket names are 3-63 characters without '/' or spaces`,
    );
  }
  const profileName = options.profile || env['AWS_PROFILE'] || 'default';
  const file = await readAwsProfileSettings(profileName, env);
  const fileLabel = file.file ?? awsConfigFilePath(env);

  let endpointSource: string | undefined;
  let rawEndpoint: string | undefined;
  if (options.endpoint) {
    rawEndpoint = options.endpoint;
    endpointSource = 'the endpoint option';
  } else if (!isTrue(env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS']) && !file.ignoreConfiguredEndpointUrls) {
    if (env['AWS_ENDPOINT_URL_S3']) {
      rawEndpoint = env['AWS_ENDPOINT_URL_S3'];
      endpointSource = 'AWS_ENDPOINT_URL_S3';
    } else if (env['AWS_ENDPOINT_URL']) {
      rawEndpoint = env['AWS_ENDPOINT_URL'];
      endpointSource = 'AWS_ENDPOINT_URL';
    } else if (file.endpointUrl) {
      rawEndpoint = file.endpointUrl;
      endpointSource = `endpoint_url of profile ${profileName} in ${fileLabel}`;
    }
  }
  const endpoint =
    rawEndpoint === undefined ? undefined : parseEndpoint(rawEndpoint, endpointSource ?? 'endpoint');
  const isAws = endpoint === undefined || isAwsHost(new URL(endpoint).hostname);

  const region =
    options.region || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || file.region || DEFAULT_REGION;
  if (!/^[a-z0-9-]+$/i.test(region)) {
    throw new UsageError(`invalid AWS region ${JSON.stringify(region)}: expected a name like us-east-1`);
  }

  let forcePathStyle = !isAws;
  if (file.addressingStyle === 'path') forcePathStyle = true;
  if (file.addressingStyle === 'virtual') forcePathStyle = false;
  if (options.forcePathStyle !== undefined) forcePathStyle = options.forcePathStyle;

  const maxSockets = positiveInteger(options.maxSockets, DEFAULT_MAX_SOCKETS, 'maxSockets');
  const maxAttempts = positiveInteger(options.maxAttempts, DEFAULT_MAX_ATTEMPTS, 'maxAttempts');

  const defaultMode: ChecksumMode = isAws ? 'when_supported' : 'when_required';
  let requestMode: ChecksumMode;
  let responseMode: ChecksumMode;
  if (options.checksumMode !== undefined) {
    requestMode = checksumMode(options.checksumMode, 'the checksumMode option');
    responseMode = requestMode;
  } else {
    requestMode = pickChecksumMode(
      env['AWS_REQUEST_CHECKSUM_CALCULATION'],
      'AWS_REQUEST_CHECKSUM_CALCULATION',
      file.requestChecksumCalculation,
      `request_checksum_calculation in ${fileLabel}`,
      defaultMode,
    );
    responseMode = pickChecksumMode(
      env['AWS_RESPONSE_CHECKSUM_VALIDATION'],
      'AWS_RESPONSE_CHECKSUM_VALIDATION',
      file.responseChecksumValidation,
      `response_checksum_validation in ${fileLabel}`,
      defaultMode,
    );
  }

  return {
    bucket,
    endpoint,
    endpointSource,
    isAws,
    region,
    profile: options.profile || undefined,
    forcePathStyle,
    maxSockets,
    maxAttempts,
    requestChecksumCalculation: requestMode === 'when_supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
    responseChecksumValidation: responseMode === 'when_supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
    credentials: options.credentials,
    credentialSource: describeCredentialSource(options, env),
    endpointLabel: endpoint ?? `AWS S3 (${region})`,
    fastGet: options.fastGet ?? true,
  };
}

/**
 * Says which credentials will be used, in aws-cli's order (see createCredentials): a profile passed
 * explicitly, then the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY pair, then AWS_PROFILE.
 */
export function describeCredentialSource(options: S3DriverOptions, env: NodeJS.ProcessEnv): string {
  if (options.credentials) return 'the credentials passed to the S3 driver';
  const files = '~/.aws/credentials and ~/.aws/config';
  if (options.profile) return `profile "${options.profile}" (from --profile) in ${files}`;
  const keyId = env['AWS_ACCESS_KEY_ID'];
  if (keyId && env['AWS_SECRET_ACCESS_KEY']) {
    const token = env['AWS_SESSION_TOKEN'] ? ' and AWS_SESSION_TOKEN' : '';
    const shadowed = env['AWS_PROFILE']
      ? ` (they win over AWS_PROFILE=${env['AWS_PROFILE']}, as in aws-cli)`
      : '';
    return `environment variables AWS_ACCESS_KEY_ID (${maskKeyId(keyId)})/AWS_SECRET_ACCESS_KEY${token}${shadowed}`;
  }
  if (env['AWS_PROFILE']) return `profile "${env['AWS_PROFILE']}" (from AWS_PROFILE) in ${files}`;
  return `the default AWS credential chain (profile "default" in ${files}, SSO, container or instance role)`;
}

/** `AKIA…WXYZ`: enough to tell keys apart in a message without printing the whole id. */
export function maskKeyId(keyId: string): string {
  return keyId.length <= 8 ? keyId : `${keyId.slice(0, 4)}…${keyId.slice(-4)}`;
}

function parseEndpoint(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new UsageError(
      `invalid S3 endpoint ${JSON.stringify(raw)} from ${source}: expected a URL like http://127.0.0.1:7480`,
      { cause: error },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(
      `invalid S3 endpoint ${JSON.stringify(raw)} from ${source}: the scheme must be http:// or https://`,
    );
  }
  if (url.search || url.hash || url.username) {
    throw new UsageError(
      `invalid S3 endpoint ${JSON.stringify(raw)} from ${source}: use only scheme, host, port and path`,
    );
  }
  return url.href.replace(/\/+$/, '');
}

function isAwsHost(hostname: string): boolean {
  return /(^|\.)amazonaws\.com(\.cn)?$/i.test(hostname) || /(^|\.)api\.aws$/i.test(hostname);
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError(`invalid S3 option ${name}=${String(value)}: expected a whole number of at least 1`);
  }
  return value;
}

function checksumMode(value: string, source: string): ChecksumMode {
  const lower = value.toLowerCase();
  if (lower === 'when_supported' || lower === 'when_required') return lower;
  throw new UsageError(
    `invalid checksum mode ${JSON.stringify(value)} from ${source}: expected when_supported or when_required`,
  );
}

function pickChecksumMode(
  envValue: string | undefined,
  envName: string,
  fileValue: string | undefined,
  fileSource: string,
  fallback: ChecksumMode,
): ChecksumMode {
  if (envValue) return checksumMode(envValue, envName);
  if (fileValue) return checksumMode(fileValue, fileSource);
  return fallback;
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && value.toLowerCase() === 'true';
}
