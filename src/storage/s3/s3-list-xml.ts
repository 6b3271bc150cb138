import type { ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';

/**
 * The ListObjectsV2 answer (`ListBucketResult`) read from its XML for the lean listing (s3-fast-get.ts), into the
 * fields the SDK's deserialiser fills and the driver uses. The SDK's general XML parser and schema walk cost
 * ~0.25 s of client CPU per 2,000 keys on the benchmark machine; this reads the one document shape directly. It
 * is strict: anything it does not expect (another root, an unknown entity, a malformed size or date, a repeated
 * field) makes it return undefined, and the caller asks the SDK instead.
 */
export type ListPage = Pick<
  ListObjectsV2CommandOutput,
  'Contents' | 'CommonPrefixes' | 'EncodingType' | 'IsTruncated' | 'NextContinuationToken'
>;

const ROOT = /^\s*(?:<\?xml[^>]*\?>)?\s*<ListBucketResult(?:\s[^>]*)?>([\s\S]*)<\/ListBucketResult>\s*$/;
/** A child element holding text, or an empty one (`<Name/>`); elements with children are matched as blocks. */
const LEAF = /<([A-Za-z][\w-]*)(?:\s[^>]*)?(?:\/>|>([^<]*)<\/\1>)/g;
const BLOCK = /<(Contents|CommonPrefixes)>([\s\S]*?)<\/\1>/g;
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));|&/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

class Unexpected extends Error {}

/** XML text with its five named entities and character references resolved. */
function xmlText(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(
    ENTITY,
    (all, named: string | undefined, dec: string | undefined, hex: string | undefined) => {
      if (named !== undefined) return NAMED[named] as string;
      const code = dec !== undefined ? Number(dec) : hex !== undefined ? Number.parseInt(hex, 16) : NaN;
      if (!Number.isInteger(code) || code > 0x10ffff) throw new Unexpected(all);
      return String.fromCodePoint(code);
    },
  );
}

/** The `wanted` text children of an element's content; one of them appearing twice is unexpected. */
function leaves(content: string, wanted: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of content.matchAll(LEAF)) {
    const name = m[1] as string;
    if (!wanted.has(name)) continue;
    if (out.has(name)) throw new Unexpected(name);
    out.set(name, xmlText(m[2] ?? ''));
  }
  return out;
}

const OBJECT_FIELDS = new Set(['Key', 'Size', 'ETag', 'LastModified']);
const PREFIX_FIELDS = new Set(['Prefix']);
const PAGE_FIELDS = new Set(['IsTruncated', 'NextContinuationToken', 'EncodingType']);

function object(content: string): NonNullable<ListPage['Contents']>[number] {
  const fields = leaves(content, OBJECT_FIELDS);
  const key = fields.get('Key');
  const size = fields.get('Size');
  if (key === undefined || size === undefined || !/^\d{1,16}$/.test(size)) throw new Unexpected('Contents');
  const out: NonNullable<ListPage['Contents']>[number] = { Key: key, Size: Number(size) };
  const etag = fields.get('ETag');
  if (etag !== undefined) out.ETag = etag;
  const modified = fields.get('LastModified');
  if (modified !== undefined) {
    const date = new Date(modified);
    if (!/^\d{4}-\d\d-\d\dT/.test(modified) || Number.isNaN(date.getTime())) throw new Unexpected(modified);
    out.LastModified = date;
  }
  return out;
}

/** The page a ListObjectsV2 answer holds, or undefined when the document is not what S3 sends. */
export function parseListObjectsV2(xml: string): ListPage | undefined {
  const root = ROOT.exec(xml);
  if (!root) return undefined;
  try {
    const contents: NonNullable<ListPage['Contents']> = [];
    const prefixes: NonNullable<ListPage['CommonPrefixes']> = [];
    const rest = (root[1] as string).replace(BLOCK, (_, name: string, content: string) => {
      if (name === 'Contents') contents.push(object(content));
      else {
        const prefix = leaves(content, PREFIX_FIELDS).get('Prefix');
        if (prefix === undefined) throw new Unexpected('CommonPrefixes');
        prefixes.push({ Prefix: prefix });
      }
      return '';
    });
    const top = leaves(rest, PAGE_FIELDS);
    const truncated = top.get('IsTruncated');
    if (truncated !== undefined && truncated !== 'true' && truncated !== 'false') return undefined;
    const page: ListPage = { IsTruncated: truncated === 'true' };
    if (contents.length > 0) page.Contents = contents;
    if (prefixes.length > 0) page.CommonPrefixes = prefixes;
    const next = top.get('NextContinuationToken');
    if (next !== undefined) page.NextContinuationToken = next;
    const encoding = top.get('EncodingType');
    if (encoding !== undefined) page.EncodingType = encoding as ListPage['EncodingType'];
    return page;
  } catch (error) {
    if (error instanceof Unexpected) return undefined;
    throw error;
  }
}
