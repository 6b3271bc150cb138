import { sqlString, type DuckSession } from './duckdb-session.js';

/**
 * DuckDB's read_parquet with union_by_name, when a column has no common type in two files (an INTEGER in one,
 * a STRUCT in the other): `Error while reading file "b.parquet": failed to cast column "v" from type ...`.
 * It names one of the files, though each is a good file on its own.
 */
export const PARQUET_SCHEMA_CLASH = /failed to cast column/;

/** The Parquet files grouped by schema (column names and DuckDB types, in order), groups in first-seen order. */
export async function groupBySchema(session: DuckSession, paths: readonly string[]): Promise<string[][]> {
  const groups = new Map<string, string[]>();
  for (const path of paths) {
    const { rows } = await session.query(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
    const schema = JSON.stringify(rows.map((r) => [r[0], r[1]]));
    const group = groups.get(schema);
    if (group) group.push(path);
    else groups.set(schema, [path]);
  }
  return [...groups.values()];
}
