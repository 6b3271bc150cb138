/** Where a long operation stands; every progress event carries one. */
export interface ProgressSnapshot {
  bytes: number;
  totalBytes: number | undefined;
  files: number;
  totalFiles: number | undefined;
  failedFiles: number;
}

export type ProgressListener<E> = (event: E) => void;

export function emptySnapshot(): ProgressSnapshot {
  return { bytes: 0, totalBytes: undefined, files: 0, totalFiles: undefined, failedFiles: 0 };
}
