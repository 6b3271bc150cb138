/**
 * Answers of the catalog's read-heavy routes (list, search), kept as serialized JSON while the catalog's
 * generation (`Catalog.generation()`, moved by a trigger on every change of datasets, grants and group
 * memberships) is the one read before computing them. So an answer is never stale: every request reads the
 * current generation (one indexed row) and recomputes when it moved, whichever replica made the change.
 * The generation is read *before* the answer is computed, so a change that commits in between makes the
 * answer newer than its generation, never older.
 *
 * Concurrent requests for the same answer under the same generation share one computation. Memory is
 * bounded by `maxBytes` (the JSON text's length) and `maxEntries`, least recently used evicted first.
 */
export class ResponseCache {
  private readonly entries = new Map<string, { generation: string; body: string }>();
  private readonly pending = new Map<string, { generation: string; body: Promise<string> }>();
  private bytes = 0;

  constructor(
    private readonly generation: () => Promise<string>,
    private readonly maxBytes: number,
    private readonly maxEntries = 2000,
  ) {}

  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  /** The JSON text of `compute()`'s answer for `key`, from the cache while the generation holds. */
  async json(key: string, compute: () => Promise<unknown>): Promise<string> {
    if (!this.enabled) return JSON.stringify(await compute());
    const generation = await this.generation();
    const hit = this.entries.get(key);
    if (hit?.generation === generation) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.body;
    }
    const running = this.pending.get(key);
    if (running?.generation === generation) return running.body;
    const body = compute().then((answer) => JSON.stringify(answer));
    this.pending.set(key, { generation, body });
    try {
      const text = await body;
      this.store(key, generation, text);
      return text;
    } finally {
      if (this.pending.get(key)?.body === body) this.pending.delete(key);
    }
  }

  private store(key: string, generation: string, body: string): void {
    this.drop(key);
    if (body.length > this.maxBytes / 4) return;
    this.entries.set(key, { generation, body });
    this.bytes += body.length;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes && this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
      this.bytes -= entry.body.length;
    }
  }

  private drop(key: string): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.entries.delete(key);
    this.bytes -= old.body.length;
  }
}
