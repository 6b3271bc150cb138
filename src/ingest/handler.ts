import { UsageError } from '../core/errors.js';
import { parseDurationSeconds, parseSize } from '../core/units.js';
import { ingestTables, type IngestOptions } from './ingest-tables.js';
import { createJsonLogger } from './json-logger.js';

/** The event the scheduler sends: which tables to ingest in this invocation. */
export interface IngestEventPayload {
  tables_to_query: string[];
}

/** The part of the AWS Lambda context the handler uses. */
export interface HandlerContext {
  getRemainingTimeInMillis?(): number;
  awsRequestId?: string;
}

/**
 * AWS Lambda (or any serverless) entry point: ingests `event.tables_to_query` and returns
 * `{ [table]: first key written | null }`. Every table runs; if any failed it then throws (the invocation
 * fails, the scheduler retries and alerts) - never a silent partial success. Configured from env vars:
 *
 * - `WHARF_INGEST_DEST` (required): `s3://bucket/prefix`
 * - `WHARF_INGEST_SOURCE_SECRET`: Secrets Manager secret (RDS JSON), or `WHARF_INGEST_SOURCE`: a URL,
 *   else the PG* variables
 * - `WHARF_INGEST_SCHEMA`, `WHARF_INGEST_CURSOR_COLUMN`, `WHARF_INGEST_LAG` (e.g. `30s`),
 *   `WHARF_INGEST_INITIAL`, `WHARF_INGEST_MAX_FILE_SIZE` (e.g. `256MiB`), `WHARF_INGEST_LAYOUT`
 *
 * Logs are JSON lines on stdout (CloudWatch): INFO per step, WARNING for no new rows, CRITICAL per failed table.
 */
export async function handler(
  event: IngestEventPayload,
  context: HandlerContext = {},
): Promise<Record<string, string | null>> {
  const env = process.env;
  const logger = createJsonLogger(process.stdout, {
    name: 'wharf-ingest',
    ...(context.awsRequestId ? { requestId: context.awsRequestId } : {}),
  });
  const tables = event?.tables_to_query;
  if (
    !Array.isArray(tables) ||
    tables.length === 0 ||
    !tables.every((t) => typeof t === 'string' && t !== '')
  ) {
    throw new UsageError(
      'the event must be {"tables_to_query": ["table", ...]} with at least one table name',
    );
  }
  const dest = env.WHARF_INGEST_DEST;
  if (!dest) throw new UsageError('set WHARF_INGEST_DEST to the destination, e.g. s3://bucket/raw');
  // Stop starting new work well before the platform kills the invocation, so no table is cut mid-upload.
  const remaining = context.getRemainingTimeInMillis?.();
  const signal =
    remaining !== undefined ? AbortSignal.timeout(Math.max(1000, remaining - 15_000)) : undefined;
  const options: IngestOptions = {
    dest,
    tables,
    source: {
      ...(env.WHARF_INGEST_SOURCE_SECRET ? { secret: env.WHARF_INGEST_SOURCE_SECRET } : {}),
      ...(env.WHARF_INGEST_SOURCE ? { url: env.WHARF_INGEST_SOURCE } : {}),
    },
    ...(env.WHARF_INGEST_SCHEMA ? { schema: env.WHARF_INGEST_SCHEMA } : {}),
    ...(env.WHARF_INGEST_CURSOR_COLUMN ? { cursorColumn: env.WHARF_INGEST_CURSOR_COLUMN } : {}),
    ...(env.WHARF_INGEST_LAG
      ? { lagSeconds: parseDurationSeconds(env.WHARF_INGEST_LAG, 'WHARF_INGEST_LAG') }
      : {}),
    ...(env.WHARF_INGEST_INITIAL ? { initial: env.WHARF_INGEST_INITIAL } : {}),
    ...(env.WHARF_INGEST_MAX_FILE_SIZE
      ? { maxFileSize: parseSize(env.WHARF_INGEST_MAX_FILE_SIZE, 'WHARF_INGEST_MAX_FILE_SIZE') }
      : {}),
    ...(env.WHARF_INGEST_LAYOUT ? { layout: env.WHARF_INGEST_LAYOUT } : {}),
    ...(env.WHARF_INGEST_TEMP_DIR ? { tempDir: env.WHARF_INGEST_TEMP_DIR } : {}),
    logger,
    ...(signal ? { signal } : {}),
  };
  const result = await ingestTables(options);
  logger.info({ tables: result }, 'ingest finished');
  return result;
}
