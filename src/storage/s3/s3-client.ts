import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { fromEnv, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ResolvedS3Options, S3Credentials } from './s3-options.js';

/** Give up connecting after this long (then the SDK retries). */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Fail a request whose socket sees no traffic for this long. */
export const SOCKET_IDLE_TIMEOUT_MS = 120_000;

/**
 * The SDK and its HTTP handler print warnings (socket pool saturated, AWS_PROFILE and env keys both set) with
 * console.warn unless given a logger. Wharf reports what matters through its own errors, so keep them quiet.
 */
const quietLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * The credential provider the client uses, in aws-cli's order: explicit credentials; a profile passed
 * explicitly; the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY pair; then the SDK's node chain (AWS_PROFILE, the
 * default profile, SSO, roles). The SDK's own chain would let AWS_PROFILE win over the keys.
 */
export function createCredentials(
  resolved: ResolvedS3Options,
  env: NodeJS.ProcessEnv = process.env,
): S3Credentials {
  if (resolved.credentials) return resolved.credentials;
  if (!resolved.profile && env['AWS_ACCESS_KEY_ID'] && env['AWS_SECRET_ACCESS_KEY']) return fromEnv();
  return fromNodeProviderChain({
    ...(resolved.profile ? { profile: resolved.profile } : {}),
    logger: quietLogger,
  });
}

/** The keep-alive connection pools of one client (and of the driver's own GetObject path, which shares them). */
export interface S3Agents {
  http: HttpAgent;
  https: HttpsAgent;
}

/** Keep-alive agents allowing at most `maxSockets` connections per endpoint. */
export function createAgents(maxSockets: number): S3Agents {
  const agentOptions = { keepAlive: true, maxSockets };
  return { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };
}

/**
 * An S3Client for the resolved options: keep-alive agents limited to `maxSockets` (`agents`, when given, so that
 * other requests can share the pool; `client.destroy()` destroys them), the standard retry strategy with
 * `maxAttempts`, checksum behaviour as configured, path-style when asked. Share `credentials` between clients so
 * the provider chain runs once.
 */
export function createS3Client(
  resolved: ResolvedS3Options,
  credentials: S3Credentials = createCredentials(resolved),
  overrides: { requestChecksumCalculation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED' } = {},
  agents: S3Agents = createAgents(resolved.maxSockets),
): S3Client {
  const requestHandler = new NodeHttpHandler({
    httpAgent: agents.http,
    httpsAgent: agents.https,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: SOCKET_IDLE_TIMEOUT_MS,
    logger: quietLogger,
  });
  // The SDK warns on every Node below 22 that it will drop it one day; Wharf supports Node 20 (package.json
  // engines) with SDK versions pinned and tested there, so library users would only see noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: resolved.region,
    ...(resolved.endpoint ? { endpoint: resolved.endpoint } : {}),
    forcePathStyle: resolved.forcePathStyle,
    credentials,
    maxAttempts: resolved.maxAttempts,
    retryMode: 'standard',
    requestChecksumCalculation: overrides.requestChecksumCalculation ?? resolved.requestChecksumCalculation,
    responseChecksumValidation: resolved.responseChecksumValidation,
    // On AWS a bucket may live in another region than the configured one; let the SDK follow the redirect.
    followRegionRedirects: resolved.isAws,
    requestHandler,
    logger: quietLogger,
  });
}
