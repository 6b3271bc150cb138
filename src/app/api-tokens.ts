import { createHash, randomBytes } from 'node:crypto';

/**
 * Bearer API tokens: `wharf_<token id>_<secret>`. The token id (12 hex digits) is public — it names the
 * token in listings and for revocation; the secret is 32 random bytes. Only the SHA-256 of the whole
 * token is stored, so a leaked catalog does not leak usable tokens.
 */
export interface GeneratedToken {
  token: string;
  tokenId: string;
  hash: Buffer;
}

const TOKEN_FORMAT = /^wharf_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

export function generateApiToken(): GeneratedToken {
  const tokenId = randomBytes(6).toString('hex');
  const token = `wharf_${tokenId}_${randomBytes(32).toString('base64url')}`;
  return { token, tokenId, hash: hashApiToken(token) };
}

export function hashApiToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The token id of a generated token (undefined for other strings, e.g. a fixed WHARF_ADMIN_TOKEN). */
export function apiTokenId(token: string): string | undefined {
  return TOKEN_FORMAT.exec(token)?.[1];
}

/** The user the first start's admin token belongs to (a sys-admin). */
export const ADMIN_USERNAME = 'admin';
/** Token id under which WHARF_ADMIN_TOKEN is stored (replaced when the variable changes). */
export const ENV_ADMIN_TOKEN_ID = 'admin-env';
