/** Strips the quotes (and a weak marker) S3 puts around ETags so two spellings of one ETag compare equal. */
export function normaliseEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

export function sameEtag(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && normaliseEtag(a) === normaliseEtag(b);
}

/** Quotes an ETag the way S3 returns it. */
export function quoteEtag(etag: string): string {
  return `"${normaliseEtag(etag)}"`;
}
