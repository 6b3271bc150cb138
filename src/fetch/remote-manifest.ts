import { InvalidKeyError, ValidationError } from '../core/errors.js';
import { unsafeKeyReason } from '../core/keys.js';
import { jsonSyntaxReason } from '../core/json-syntax.js';

/** One object a remote manifest names: its key relative to the dataset prefix, and its size if stated. */
export interface ManifestEntry {
  relativeKey: string;
  size?: number;
}

export interface ManifestContext {
  /** How to name the manifest in messages (e.g. `s3://bucket/prefix/manifest.json`). */
  manifestKey: string;
  /** The bucket every JSON entry's URL must be in; any bucket when omitted. */
  bucket?: string;
  /** The dataset prefix ('' or ending in '/'); every entry must be below it. */
  prefix: string;
}

/**
 * The manifest's bytes as text: UTF-8, unless a byte-order mark says UTF-16 (what Windows PowerShell 5's `>` and
 * `Out-File` write), so such a list reads as its keys rather than as keys full of NUL characters.
 */
export function decodeManifest(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  return new TextDecoder('utf-8').decode(bytes);
}

/**
 * Parses a dataset manifest, in one of two formats:
 *
 * - JSON as Redshift UNLOAD writes it (`MANIFEST VERBOSE`): `{"entries":[{"url":"s3://bucket/prefix/file",
 *   "meta":{"content_length":N}}]}`; other fields (`mandatory`, top-level `schema`, `meta`) are ignored.
 *   Every URL must be `s3://<bucket>/<prefix><rest>`. Chosen when the trimmed text starts with '{'.
 * - Plain text: one key relative to the prefix per line; blank lines and lines starting with '#' are skipped,
 *   surrounding whitespace is trimmed, CRLF line ends are fine.
 *
 * Entries keep the manifest's order; a repeated key keeps its first entry. Throws ValidationError for
 * malformed JSON or an entry outside the prefix, InvalidKeyError for a relative key that is not a safe path.
 */
export function parseManifest(text: string, ctx: ManifestContext): ManifestEntry[] {
  const trimmed = text.trim();
  const entries = trimmed.startsWith('{') ? parseJsonManifest(trimmed, ctx) : parseKeyList(text, ctx);
  const seen = new Set<string>();
  const unique: ManifestEntry[] = [];
  for (const entry of entries) {
    if (seen.has(entry.relativeKey)) continue;
    seen.add(entry.relativeKey);
    unique.push(entry);
  }
  return unique;
}

function parseKeyList(text: string, ctx: ManifestContext): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    checkKey(line, `line ${index + 1}`, ctx, /^s3:\/\//i.test(line));
    entries.push({ relativeKey: line });
  });
  return entries;
}

function parseJsonManifest(text: string, ctx: ManifestContext): ManifestEntry[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`manifest ${ctx.manifestKey} is not valid JSON: ${jsonSyntaxReason(error)}`, {
      cause: error,
      hint: 'a manifest is either JSON {"entries":[{"url":"s3://..."}]} or a plain list of keys, one per line',
    });
  }
  const list = isRecord(document) ? document.entries : undefined;
  if (!Array.isArray(list)) {
    throw new ValidationError(`manifest ${ctx.manifestKey} has no "entries" array`, {
      hint: 'expected {"entries":[{"url":"s3://bucket/prefix/file","meta":{"content_length":123}}]}',
    });
  }
  const expected =
    ctx.bucket === undefined ? `s3://<bucket>/${ctx.prefix}` : `s3://${ctx.bucket}/${ctx.prefix}`;
  return list.map((item: unknown, index): ManifestEntry => {
    const where = `entry ${index + 1}`;
    const url = isRecord(item) ? item.url : undefined;
    if (typeof url !== 'string') {
      throw new ValidationError(`manifest ${ctx.manifestKey}: ${where} has no "url" string`);
    }
    const relativeKey = relativeKeyOfUrl(url, ctx);
    if (relativeKey === undefined) {
      throw new ValidationError(
        `manifest ${ctx.manifestKey}: ${where} (${url}) is not below the dataset location ${expected}`,
        { hint: 'every entry of the manifest must name an object below the prefix being fetched' },
      );
    }
    checkKey(relativeKey, `${where} (${url})`, ctx, false);
    const entry: ManifestEntry = { relativeKey };
    const meta = isRecord(item) ? item.meta : undefined;
    const size = isRecord(meta) ? meta.content_length : undefined;
    if (size !== undefined) {
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
        throw new ValidationError(
          `manifest ${ctx.manifestKey}: ${where} (${url}) has meta.content_length ${JSON.stringify(size)}, not a byte count`,
        );
      }
      entry.size = size;
    }
    return entry;
  });
}

/** The key after `s3://<bucket>/<prefix>`, or undefined if the URL is not below that location. */
function relativeKeyOfUrl(url: string, ctx: ManifestContext): string | undefined {
  const match = /^s3:\/\/([^/]+)\/(.*)$/s.exec(url);
  if (!match) return undefined;
  const [, bucket = '', key = ''] = match;
  if (ctx.bucket !== undefined && bucket !== ctx.bucket) return undefined;
  if (!key.startsWith(ctx.prefix)) return undefined;
  return key.slice(ctx.prefix.length);
}

function checkKey(relativeKey: string, where: string, ctx: ManifestContext, looksLikeUrl: boolean): void {
  const reason = unsafeKeyReason(relativeKey);
  if (reason === undefined) return;
  throw new InvalidKeyError(relativeKey, `${reason} (manifest ${ctx.manifestKey}, ${where})`, {
    hint: looksLikeUrl
      ? 'a plain-text manifest lists keys relative to the dataset prefix, not s3:// URLs; use the JSON format for URLs'
      : 'every manifest entry must be a relative path below the dataset prefix',
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
