import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * A deterministic pseudo-random stream of `size` bytes (xorshift), produced in chunks so that large
 * bodies never sit in memory whole. Returns the stream and a promise of its sha256.
 */
export function patternStream(
  size: number,
  seed = 1,
  chunkSize = 1 << 20,
): { stream: Readable; sha256: Promise<string> } {
  const hash = createHash('sha256');
  let state = seed >>> 0 || 1;
  let produced = 0;
  let resolveDigest: (digest: string) => void = () => undefined;
  const sha256 = new Promise<string>((resolve) => (resolveDigest = resolve));
  const stream = new Readable({
    read() {
      if (produced >= size) {
        resolveDigest(hash.digest('hex'));
        this.push(null);
        return;
      }
      const n = Math.min(chunkSize, size - produced);
      const chunk = Buffer.allocUnsafe(n);
      for (let i = 0; i + 4 <= n; i += 4) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        chunk.writeUInt32LE(state >>> 0, i);
      }
      for (let i = n - (n % 4); i < n; i++) chunk[i] = i & 0xff;
      produced += n;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256 };
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export async function sha256Of(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buffer.length;
    hash.update(buffer);
  }
  return { sha256: hash.digest('hex'), size };
}

/** Keys that break naive URL encoding, path handling or sorting. Every driver must round-trip them exactly. */
export const AWKWARD_KEYS: readonly string[] = [
  'plain.txt',
  'with space.txt',
  'plus+sign.csv',
  'percent%20literal.txt',
  'percent%.txt',
  'equals=sign/key=value.parquet',
  'ampersand&and.txt',
  'question?mark.txt',
  'hash#tag.txt',
  'tilde~and,comma;semi.txt',
  "quote'single.txt",
  'brackets[1](2){3}.txt',
  'unicode/é-ü-ß.txt',
  'unicode/日本語/ファイル.txt',
  'emoji/🐳.bin',
  'deep/a/b/c/d/e/f/g/h/i/j/leaf.txt',
  'dash-first/-x',
  'dot.dir/.hidden',
  'UPPER/Case.TXT',
  'a-sort',
  'a/sort',
  'a0sort',
];
