/** Ranges of a big object fetched at once, and their size (the 1 GiB benchmark's choice, docs/benchmarks.md). */
export const RANGED_DOWNLOAD_DEFAULTS = { partConcurrency: 8, partSize: 8 * 1024 * 1024 } as const;
