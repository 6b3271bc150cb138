import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buildTable, type BuildTableOptions, type BuildTableResult } from '../../src/tables/build-table.js';
import { queryTable } from '../../src/tables/inspect-table.js';
import { writeParquet } from './parquet-file.js';

/** A source file: its text or bytes, or `{ parquet: SQL }` for a Parquet file holding that query's rows. */
export type TableSource = string | Uint8Array | { parquet: string };

/** Writes `files` (relative names) under `root`, making folders as needed. */
export async function putSources(root: string, files: Record<string, TableSource>): Promise<void> {
  for (const [name, body] of Object.entries(files)) {
    const path = join(root, name);
    await mkdir(dirname(path), { recursive: true });
    if (typeof body === 'object' && 'parquet' in body) await writeParquet(path, body.parquet);
    else await writeFile(path, body);
  }
}

/** buildTable of `files` put in `<work>/<label>/src`, cached in `.../cache`, written to `.../out/table.parquet`. */
export async function buildFrom(
  work: string,
  label: string,
  files: Record<string, TableSource>,
  o: Partial<BuildTableOptions> = {},
): Promise<BuildTableResult> {
  const src = join(work, label, 'src');
  await putSources(src, files);
  return buildTable({
    source: src,
    cache: join(work, label, 'cache'),
    to: join(work, label, 'out', 'table.parquet'),
    ...o,
  });
}

/** The rows of `sql` over the table at `path` (`t`), as objects by column name. */
export async function rowsOf(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const { columns, rows } = await queryTable(path, sql);
  return rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.name, r[i]])));
}
