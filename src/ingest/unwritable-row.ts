import { WharfError } from '../core/errors.js';
import type { ColumnPlan } from './column-types.js';
import { UNWRITABLE_HINT, type UnwritableValueError } from './parquet/conversion-error.js';
import type { PgSource, TableInfo } from './postgres/pg-source.js';

/** Columns tried when DuckDB did not name one (each a query over the window). */
const MOST_SUSPECTS = 4;

/**
 * A value the Parquet type cannot hold, with its column and row named: DuckDB's error knows the value (and often
 * the column), not the row, so the window is searched in PostgreSQL for it. Also says what to do: for a NaN in a
 * DECIMAL column (numeric(p,s)), which Parquet has no value for, how to keep it.
 */
export async function explainUnwritableValue(
  error: UnwritableValueError,
  source: PgSource,
  info: TableInfo,
  plans: readonly ColumnPlan[],
  from: string,
  to: string,
): Promise<WharfError> {
  const candidates = error.columns
    .map((name) => plans.find((p) => p.name === name))
    .filter((p): p is ColumnPlan => p !== undefined);
  const hint = hintFor(candidates, error.value);
  if (error.value === undefined) return withHint(error, hint);
  for (const plan of candidates.slice(0, MOST_SUSPECTS)) {
    const row = await source.findRow(info, plan, error.value, from, to).catch(() => undefined);
    if (row !== undefined) {
      return new WharfError(
        'UNSUPPORTED',
        `writing Parquet failed: column ${JSON.stringify(plan.name)} (${plan.declared}) of the row ${row}: ${error.reason}`,
        { cause: error, hint },
      );
    }
  }
  return withHint(error, hint);
}

function hintFor(candidates: readonly ColumnPlan[], value: string | undefined): string {
  const decimal = candidates.length > 0 && candidates.every((p) => p.parquetType.startsWith('DECIMAL'));
  if (decimal && value === 'NaN') {
    const type = candidates.every((p) => p.parquetType.endsWith('[]')) ? 'numeric[]' : 'numeric';
    return (
      'Parquet’s DECIMAL has no NaN: set the value to NULL or a number in PostgreSQL, or make the column an ' +
      `unbounded ${type} (ALTER TABLE … ALTER COLUMN … TYPE ${type}), which is written as exact text, NaN ` +
      'included; nothing was uploaded, and the next run reads this window again'
    );
  }
  return UNWRITABLE_HINT;
}

function withHint(error: UnwritableValueError, hint: string): WharfError {
  return hint === error.hint ? error : new WharfError('UNSUPPORTED', error.message, { cause: error, hint });
}
