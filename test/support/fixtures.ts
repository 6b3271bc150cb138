import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { AWKWARD_KEYS } from '../../src/storage/conformance/test-bodies.js';

export async function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `wharf-${label}-`));
}

/** A folder holding one file per awkward key (plus an empty one), with distinct bytes in each. */
export async function writeAwkwardTree(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const [i, key] of [...AWKWARD_KEYS, 'empty/zero.bin'].entries()) {
    const body =
      key === 'empty/zero.bin' ? Buffer.alloc(0) : Buffer.from(`${i}:${key}:${'x'.repeat(i * 37)}`);
    await mkdir(dirname(join(root, key)), { recursive: true });
    await writeFile(join(root, key), body);
    files.set(key, body);
  }
  return files;
}

/** Every file under `root` as relative key -> bytes. */
export async function readTree(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.set(relative(root, path).split('\\').join('/'), await readFile(path));
    }
  };
  await walk(root);
  return out;
}
