import { RANGED_DOWNLOAD_DEFAULTS } from '../transfer/download/ranged-download-defaults.js';

// A module of its own so that `wharf fetch --help` shows the defaults without loading the fetch engine.
export const FETCH_DEFAULTS = {
  dest: './data',
  // 64 files at once: on the 2-core benchmark machine 2,000 small files took 4.96 s at 64, 5.31–6.00 s at 32 and
  // 7.68 s at 16 (alternating runs, medians), and 96 or 128 gained nothing more; rclone peaks at 64 transfers too.
  concurrency: 64,
  ...RANGED_DOWNLOAD_DEFAULTS,
  attempts: 5,
} as const;
