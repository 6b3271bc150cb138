import type { ProgressSnapshot } from '../core/events.js';
import { formatBytes } from '../core/units.js';
import type { Output } from './output.js';

export interface ProgressView {
  update(snapshot: ProgressSnapshot): void;
  stop(): void;
}

const NONE: ProgressView = { update: () => undefined, stop: () => undefined };

/** A byte/file progress bar on stderr, or nothing when bars are off (not a terminal, --json, --quiet). */
export async function createProgress(output: Output, label: string): Promise<ProgressView> {
  if (!output.showProgress) return NONE;
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} {bar} {percentage}% | {doneBytes}/{totalBytes} | {files}/{totalFiles} files | {speed} | ETA {eta_formatted}`,
      stream: output.errorStream,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let running = false;
  const payload = (s: ProgressSnapshot): Record<string, string | number> => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    return {
      doneBytes: formatBytes(s.bytes),
      totalBytes: formatBytes(s.totalBytes ?? 0),
      files: s.files,
      totalFiles: s.totalFiles ?? 0,
      speed: `${formatBytes(s.bytes / seconds)}/s`,
    };
  };
  return {
    update(s) {
      const total = Math.max(s.totalBytes ?? 0, 1);
      if (!running) {
        bar.start(total, s.bytes, payload(s));
        running = true;
      } else {
        bar.setTotal(total);
        bar.update(s.bytes, payload(s));
      }
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
