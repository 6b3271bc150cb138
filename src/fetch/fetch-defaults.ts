import { RANGED_DOWNLOAD_DEFAULTS } from '../transfer/download/ranged-download-defaults.js';

// A module of its own so that `wharf fetch --help` shows the defaults without loading the fetch engine.
export const FETCH_DEFAULTS = {
  dest: './data',
  // 256 files at once, as s5cmd's 256 workers: a small GET is mostly waiting (on AWS for its first byte; on the
  // benchmark's Ceph RGW, whose default frontend answers a request on a reused connection ~40 ms late), and a
  // waiting file costs little. 2,000 x 16 KiB on the 2-core benchmark machine, alternating runs, medians: 3.04 s
  // at 64, 2.95 s at 128, 2.71 s at 256; against a gateway without that delay 2.27 / 2.31 / 2.44 s. Requests
  // whose body streams through buffers (ranges, objects above 256 KiB) stay at most STREAMED_IN_FLIGHT
  // (fetch-dataset.ts).
  concurrency: 256,
  ...RANGED_DOWNLOAD_DEFAULTS,
  attempts: 5,
} as const;
