import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWharfConfig } from './wharf-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadWharfConfig', () => {
  it('is empty without a file, and reads the tables section of ./wharf.config.json', async () => {
    expect(await loadWharfConfig({ cwd: dir })).toEqual({});
    await writeFile(
      join(dir, 'wharf.config.json'),
      JSON.stringify({ tables: { from: 's3://b', define: { t: { prefix: 'x/' } } } }),
    );
    expect(await loadWharfConfig({ cwd: dir })).toEqual({
      path: join(dir, 'wharf.config.json'),
      tables: { from: 's3://b', define: { t: { prefix: 'x/' } } },
    });
  });

  it('names the file and the problem', async () => {
    await writeFile(join(dir, 'broken.json'), '{"tables": ');
    await expect(loadWharfConfig({ cwd: dir, explicitPath: 'broken.json' })).rejects.toThrow(
      /broken\.json is not valid JSON/,
    );
    await writeFile(join(dir, 'odd.json'), '{"tabels": {}}');
    await expect(loadWharfConfig({ cwd: dir, explicitPath: 'odd.json' })).rejects.toThrow(
      /odd\.json: unknown section "tabels"/,
    );
    await expect(loadWharfConfig({ cwd: dir, explicitPath: 'missing.json' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
