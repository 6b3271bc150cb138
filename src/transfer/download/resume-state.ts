import { readFile, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../../core/atomic-file.js';

/** What survives an interrupted ranged download, next to its partial data file. */
export interface ResumeState {
  version: 1;
  key: string;
  etag: string;
  size: number;
  rangeSize: number;
  /** Indexes of ranges whose bytes are in the data file (written and synced before being recorded). */
  done: number[];
  /** Encryption the store reported, so an MD5 ETag check after a resume knows whether it applies. */
  encryption?: string;
}

/** The state at `path` if it describes this very object version, else undefined (absent, stale or torn). */
export async function loadResumeState(
  path: string,
  expected: { key: string; etag: string; size: number },
): Promise<ResumeState | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  const s = parsed as Partial<ResumeState>;
  if (
    s.version !== 1 ||
    s.key !== expected.key ||
    s.etag !== expected.etag ||
    s.size !== expected.size ||
    typeof s.rangeSize !== 'number' ||
    !Array.isArray(s.done)
  ) {
    return undefined;
  }
  return s as ResumeState;
}

export async function saveResumeState(path: string, state: ResumeState): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(state));
}

export async function removeResumeFiles(...paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { force: true })));
}
