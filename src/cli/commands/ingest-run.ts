import { WharfError } from '../../core/errors.js';
import { formatBytes, formatSeconds } from '../../core/units.js';
import type { IngestEvent, IngestReport, TableReport } from '../../ingest/ingest-tables.js';
import { messageNamingTable } from '../../ingest/table-message.js';
import type { CommandContext } from '../context.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import type { Output } from '../output.js';
import type { IngestFlags } from './ingest.js';

export async function ingest(ctx: CommandContext, flags: IngestFlags): Promise<number> {
  const { output, signal } = ctx;
  // pg and DuckDB load only here (and only when a table actually runs), so `wharf --help` stays fast.
  const { ingestTablesDetailed } = await import('../../ingest/ingest-tables.js');
  const { createJsonLogger } = await import('../../ingest/json-logger.js');
  const logger =
    output.json || output.verbose
      ? createJsonLogger(output.errorStream, { name: 'wharf-ingest' }, output.verbose ? 'debug' : 'info')
      : undefined;
  const report = await ingestTablesDetailed({
    source: {
      ...(flags.source !== undefined ? { url: flags.source } : {}),
      ...(flags.sourceFile !== undefined ? { file: flags.sourceFile } : {}),
      ...(flags.sourceSecret !== undefined ? { secret: flags.sourceSecret } : {}),
    },
    dest: flags.dest,
    storage: ctx.storage,
    ...(flags.tables ? { tables: flags.tables } : {}),
    all: flags.all ?? false,
    schema: flags.schema,
    cursorColumn: flags.cursorColumn,
    lagSeconds: flags.lag,
    ...(flags.initial !== undefined ? { initial: flags.initial } : {}),
    ...(flags.until !== undefined ? { until: flags.until } : {}),
    maxFileSize: flags.maxFileSize,
    ...(flags.layout !== undefined ? { layout: flags.layout } : {}),
    guardWaitSeconds: flags.guardWait,
    dryRun: flags.dryRun ?? false,
    ...(logger ? { logger } : {}),
    onEvent: (event) => onEvent(output, event),
    signal,
  });
  render(output, report, flags.dest, flags.dryRun ?? false);
  const failures = report.tables.flatMap((t) => (t.error ? [t.error] : []));
  if (failures.length === 0) return EXIT.ok;
  const codes = new Set(failures.map((e) => e.code));
  return codes.size === 1 ? exitCodeFor(failures[0]?.code ?? 'INTERNAL') : EXIT.failure;
}

function onEvent(output: Output, event: IngestEvent): void {
  switch (event.type) {
    case 'pending':
      output.info(
        `${event.table}: ${event.action === 'finish' ? 'finishing' : 'clearing'} the interrupted run ${event.runId} [${event.from}, ${event.to})`,
      );
      break;
    case 'schema-changed':
      output.warn(
        `${event.table}: schema changed (added: ${event.change.added.join(', ') || '-'}; removed: ${event.change.removed.join(', ') || '-'}; changed: ${event.change.changed.join(', ') || '-'})`,
      );
      break;
    case 'no-primary-key':
      output.warn(`${event.table}: no primary key, so its rows cannot be deduplicated by key on read`);
      break;
    case 'columns-renamed':
      output.warn(
        `${event.table}: columns whose names differ only by case are renamed in the Parquet: ${Object.entries(
          event.renamed,
        )
          .map(([from, to]) => `${JSON.stringify(from)} -> ${JSON.stringify(to)}`)
          .join(', ')} (rename one of them in PostgreSQL to keep both names)`,
      );
      break;
    case 'window':
      if (event.heldBy) {
        output.debug(
          `${event.table}: window held back to ${event.to} by pid ${event.heldBy.pid} (open since ${event.heldBy.since})`,
        );
      }
      break;
    case 'extracted':
      output.debug(`${event.table}: extracted ${event.rows} row(s) (${formatBytes(event.bytes)} of CSV)`);
      break;
    case 'written':
      output.debug(`${event.table}: wrote ${event.files} Parquet file(s) (${formatBytes(event.bytes)})`);
      break;
    case 'uploaded':
      output.debug(`${event.table}: uploaded and verified ${event.key} (${formatBytes(event.size)})`);
      break;
    default:
      break;
  }
}

function render(output: Output, report: IngestReport, dest: string, dryRun: boolean): void {
  const base = dest.endsWith('/') ? dest : `${dest}/`;
  for (const t of report.tables) {
    if (output.json) output.record(record(t, dryRun));
    if (t.error) {
      output.error(withTable(t.table, t.error));
      continue;
    }
    if (output.json) continue;
    const window = t.window ? ` [${t.window.from}, ${t.window.to})` : '';
    if (dryRun) {
      output.line(
        `would ingest ${t.table}${window}: ${t.plannedRows ?? 0} row(s) -> ${base}${t.plannedKey ?? ''}` +
          (t.pending
            ? ` (after ${t.pending.action === 'finish' ? 'finishing' : 'clearing'} pending run ${t.pending.runId})`
            : ''),
      );
    } else if (t.status === 'written') {
      output.line(
        `${t.table}: ${t.rows} row(s), ${t.keys.length} object(s), ${formatBytes(t.bytes)} -> ${base}${t.key ?? ''}`,
      );
    } else {
      output.line(`${t.table}: no new rows${window}`);
    }
  }
  if (report.tables.length < 2) return;
  const written = report.tables.filter((t) => t.status === 'written').length;
  const seconds = report.tables.reduce((n, t) => n + t.seconds, 0);
  output.info(
    dryRun
      ? `dry run: ${report.tables.length} table(s) planned; nothing written`
      : `${written} table(s) written, ${report.tables.length - written - report.failed} without new rows, ${report.failed} failed in ${formatSeconds(seconds * 1000)}`,
  );
}

function withTable(table: string, error: WharfError): WharfError {
  const message = messageNamingTable(table, error.message);
  if (message === error.message) return error;
  return new WharfError(error.code, message, error.hint ? { hint: error.hint } : {});
}

function record(t: TableReport, dryRun: boolean): Record<string, unknown> {
  return {
    table: t.table,
    status: t.status,
    key: t.key,
    keys: t.keys,
    rows: t.rows,
    bytes: t.bytes,
    seconds: t.seconds,
    dryRun,
    ...(t.window ? { window: t.window } : {}),
    ...(t.pending ? { pending: t.pending } : {}),
    ...(t.schemaChange ? { schemaChange: t.schemaChange } : {}),
    ...(t.plannedRows !== undefined ? { plannedRows: t.plannedRows, plannedKey: t.plannedKey } : {}),
    ...(t.error
      ? {
          error: {
            code: t.error.code,
            message: t.error.message,
            ...(t.error.hint ? { hint: t.error.hint } : {}),
          },
        }
      : {}),
  };
}
