import { join } from 'node:path';

/** Wharf's own files inside a dataset folder; keys under it are refused as data. */
export const STATE_FOLDER = '.wharf';

export interface DatasetPaths {
  datasetDir: string;
  stateDir: string;
  tempDir: string;
  partialDir: string;
}

export function datasetPaths(destDir: string, datasetId: string): DatasetPaths {
  const datasetDir = join(destDir, datasetId);
  const stateDir = join(datasetDir, STATE_FOLDER);
  return { datasetDir, stateDir, tempDir: join(stateDir, 'tmp'), partialDir: join(stateDir, 'partial') };
}

/** Local path of a key relative to the dataset prefix (already checked by `unsafeKeyReason`). */
export function localPathOf(datasetDir: string, relativeKey: string): string {
  return join(datasetDir, ...relativeKey.split('/'));
}
