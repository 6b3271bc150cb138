import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createJsonLogger } from './json-logger.js';

describe('json logger', () => {
  it('writes pino-shaped lines with a severity label, filtered by level', () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (b: Buffer) => lines.push(...b.toString().trim().split('\n')));
    const log = createJsonLogger(out, { name: 'wharf-ingest' });
    log.debug({ table: 't' }, 'hidden');
    log.info({ table: 't', rows: 3 }, 'extracted window');
    log.warn({ table: 't' }, 'no new rows');
    log.critical({ table: 't', code: 'NOT_FOUND' }, 'ingest of t failed');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => [r.level, r.severity, r.msg])).toEqual([
      [30, 'INFO', 'extracted window'],
      [40, 'WARNING', 'no new rows'],
      [60, 'CRITICAL', 'ingest of t failed'],
    ]);
    expect(records[0]).toMatchObject({ name: 'wharf-ingest', table: 't', rows: 3 });
    expect(typeof records[0]?.time).toBe('number');
  });
});
