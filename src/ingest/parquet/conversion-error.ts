import { WharfError } from '../../core/errors.js';

/** What of a column plan the messages need. */
interface PlanNames {
  name: string;
  parquetType: string;
}

/**
 * A value DuckDB could not turn into its column's Parquet type (a numeric NaN as DECIMAL, a timestamp past
 * year 294247, ...). Carries what the caller needs to find the row in PostgreSQL: the columns the value can
 * be in (one when DuckDB named it) and the value as DuckDB quoted it (a list element for a LIST column).
 */
export class UnwritableValueError extends WharfError {
  constructor(
    message: string,
    /** DuckDB's reason, the column left out (`Could not convert string "NaN" to 'DECIMAL'`). */
    readonly reason: string,
    /** PostgreSQL names of the columns the value can be in: one when DuckDB named it, else the suspects. */
    readonly columns: readonly string[],
    /** The value as DuckDB quoted it, when its message holds one. */
    readonly value: string | undefined,
    options: { cause?: unknown; hint?: string },
  ) {
    super('UNSUPPORTED', message, options);
  }
}

/** A DuckDB failure while writing the Parquet, as a WharfError: UnwritableValueError for a value, IO for a full disk. */
export function duckdbWriteError(error: unknown, plans: readonly PlanNames[]): WharfError {
  const message = (error as Error).message;
  const code = duckdbErrorCode(message);
  const text = `writing Parquet failed: ${duckdbReason(message, plans)}`;
  if (code !== 'UNSUPPORTED') return new WharfError(code, text, { cause: error });
  const named = namedColumn(message, plans);
  const first = firstLine(message);
  return new UnwritableValueError(
    text,
    named ? named.reason : first.replace(/\s*when casting from (source )?column "?c\d+"?/, ''),
    named ? [named.column] : suspectColumns(first, plans),
    quotedValue(message),
    { cause: error, hint: UNWRITABLE_HINT },
  );
}

export const UNWRITABLE_HINT =
  'the column’s Parquet type cannot hold this value (docs/ingest.md, Types): change the value or the column’s type in PostgreSQL; nothing was uploaded, and the next run reads this window again';

/** DuckDB's first line without the position in the internal CSV stream (a line number no table has). */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/: CSV Error on Line: \d+$/, '');
}

/** The column DuckDB names (by its CSV position `c3` or as a CAST's source) and the reason without it. */
function namedColumn(
  message: string,
  plans: readonly PlanNames[],
): { column: string; reason: string } | undefined {
  const conversion = /Error when converting column "c(\d+)"\. (.*)/.exec(message);
  const column = (position: string | undefined): string | undefined => plans[Number(position)]?.name;
  if (conversion) {
    const name = column(conversion[1]);
    return name === undefined ? undefined : { column: name, reason: (conversion[2] ?? '').slice(0, 300) };
  }
  const first = firstLine(message);
  const cast = /\s*when casting from (?:source )?column "?c(\d+)"?/.exec(first);
  const name = column(cast?.[1]);
  return cast && name !== undefined ? { column: name, reason: first.replace(cast[0], '') } : undefined;
}

/** The offending value as DuckDB's message quotes it, for the forms its casts and CSV reader use. */
function quotedValue(message: string): string | undefined {
  const patterns = [
    /Could not convert string "(.*)" to '/,
    /field value out of range: "(.*)" when casting/,
    /field value "(.*)" has a timestamp/,
    /Failed to cast value to \w+: "(.*)"$/m,
    /Input: "(.*)" when casting/,
  ];
  for (const pattern of patterns) {
    const m = pattern.exec(message);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * DuckDB's first line, plus the column and the value a conversion failed on (its CSV reader names the column by
 * its position, `c3`: given back its real name). The rest of DuckDB's message (the whole row, reader options)
 * is left out, and so is the line of the internal CSV stream it failed on.
 */
export function duckdbReason(message: string, plans: readonly PlanNames[]): string {
  const first = firstLine(message);
  const realName = (position: string): string => plans[Number(position)]?.name ?? `column ${position}`;
  const conversion = /Error when converting column "c(\d+)"\. (.*)/.exec(message);
  if (conversion) {
    return `${first}: column ${JSON.stringify(realName(conversion[1] ?? ''))}: ${(conversion[2] ?? '').slice(0, 300)}`;
  }
  // A CAST in the SELECT names its input as `source column c2`.
  const named = first.replace(/\bsource column c(\d+)\b/g, (_, position: string) => {
    return `column ${JSON.stringify(realName(position))}`;
  });
  if (/\bcolumn "/.test(named)) return named;
  const suspects = suspectColumns(named, plans);
  if (suspects.length === 0) return named;
  return `${named} (${suspects.length === 1 ? 'column' : 'one of the columns'} ${suspects.map((n) => JSON.stringify(n)).join(', ')})`;
}

/**
 * Some DuckDB casts fail without naming the column (a BC timestamp, a nested array or a NaN element in a LIST
 * column): the columns whose type that failure can come from.
 */
function suspectColumns(message: string, plans: readonly PlanNames[]): string[] {
  const ofType = (test: (type: string) => boolean): string[] =>
    plans.filter((p) => test(p.parquetType)).map((p) => p.name);
  if (/^Conversion Error: timestamp field value/.test(message))
    return ofType((t) => t.startsWith('TIMESTAMP'));
  if (/^Conversion Error: (date field value|Failed to cast value to|Could not convert)/.test(message)) {
    return ofType((t) => t.endsWith('[]'));
  }
  return [];
}

/** A value its Parquet type cannot hold is UNSUPPORTED (exit 1, not a Wharf bug); a full disk is IO. */
export function duckdbErrorCode(message: string): 'UNSUPPORTED' | 'IO' | 'INTERNAL' {
  if (/No space left on device|could not write|disk is full/i.test(message)) return 'IO';
  if (
    /^(Conversion|Invalid Input|Out of Range) Error|Malformed JSON|Could not convert|Failed to cast/m.test(
      message,
    )
  ) {
    return 'UNSUPPORTED';
  }
  return 'INTERNAL';
}
