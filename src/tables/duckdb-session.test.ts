import { describe, expect, it } from 'vitest';
import { DuckSession } from './duckdb-session.js';

describe('DuckSession', () => {
  it('never installs or auto-loads extensions, and has parquet and json built in', async () => {
    const session = await DuckSession.open();
    try {
      const settings = await session.query(
        `SELECT current_setting('autoinstall_known_extensions'), current_setting('autoload_known_extensions')`,
      );
      expect(settings.rows).toEqual([[false, false]]);
      const loaded = await session.query(
        `SELECT extension_name FROM duckdb_extensions() WHERE loaded AND extension_name IN ('parquet', 'json') ORDER BY 1`,
      );
      expect(loaded.rows).toEqual([['json'], ['parquet']]);
    } finally {
      session.close();
    }
  });

  it('prints FLOATs as the float they are and DATE infinities as infinity', async () => {
    const session = await DuckSession.open();
    try {
      const r = await session.query(
        `SELECT 0.1::FLOAT AS f, 3.4028235e38::FLOAT AS big, 'infinity'::DATE AS d, '-infinity'::DATE AS e, DATE '2024-02-29' AS g`,
      );
      expect(r.rows).toEqual([[0.1, 3.4028235e38, 'infinity', '-infinity', '2024-02-29']]);
    } finally {
      session.close();
    }
  });

  it('returns integers that fit a double as numbers and larger ones as strings', async () => {
    const session = await DuckSession.open();
    try {
      const r = await session.query(
        `SELECT 42::BIGINT AS a, 9007199254740993::BIGINT AS b, 1.25::DECIMAL(5,2) AS c`,
      );
      expect(r.rows).toEqual([[42, '9007199254740993', 1.25]]);
      expect(r.columns).toEqual([
        { name: 'a', type: 'BIGINT' },
        { name: 'b', type: 'BIGINT' },
        { name: 'c', type: 'DECIMAL(5,2)' },
      ]);
    } finally {
      session.close();
    }
  });

  it('interrupts the running statement when the signal fires', async () => {
    const controller = new AbortController();
    const session = await DuckSession.open({ signal: controller.signal });
    try {
      setTimeout(() => controller.abort(), 50);
      await expect(session.run(`SELECT count(*) FROM range(10000000000) a`)).rejects.toMatchObject({
        code: 'ABORTED',
      });
    } finally {
      session.close();
    }
  });
});
