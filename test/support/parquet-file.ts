import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckSession, sqlString } from '../../src/tables/duckdb-session.js';

/**
 * Writes the rows of a DuckDB query as a Parquet file, for tests that need Parquet sources without committing
 * binary fixtures. `compression` is DuckDB's COPY option (zstd, snappy, uncompressed, ...).
 */
export async function writeParquet(path: string, select: string, compression = 'zstd'): Promise<void> {
  const session = await DuckSession.open({ threads: 1 });
  try {
    await session.run(`COPY (${select}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION ${compression})`);
  } finally {
    session.close();
  }
}

/** The bytes of a Parquet file holding the rows of a DuckDB query (see writeParquet). */
export async function parquetBytes(select: string, compression = 'zstd'): Promise<Buffer> {
  return (await parquetFiles([select], compression))[0] as Buffer;
}

/** The bytes of one Parquet file per query, made in one DuckDB session (see writeParquet). */
export async function parquetFiles(selects: readonly string[], compression = 'zstd'): Promise<Buffer[]> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-parquet-fixture-'));
  const session = await DuckSession.open({ threads: 1 });
  try {
    const out: Buffer[] = [];
    for (const [i, select] of selects.entries()) {
      const path = join(dir, `${i}.parquet`);
      await session.run(
        `COPY (${select}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION ${compression})`,
      );
      out.push(await readFile(path));
    }
    return out;
  } finally {
    session.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A Parquet file whose first page header is overwritten: its footer (schema, row count) is intact, so
 * `count(*)` works, but reading the values fails with a message that names no file. DuckDB starts the first
 * column chunk right after the 4-byte magic.
 */
export function damagedFirstPage(parquet: Uint8Array): Buffer {
  const bytes = Buffer.from(parquet);
  for (let i = 4; i < 20; i++) bytes[i] = (bytes[i] as number) ^ 0x5a;
  return bytes;
}
