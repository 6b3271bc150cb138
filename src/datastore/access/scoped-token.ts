import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** Every scoped token starts with this, so `authenticate` can tell it from API tokens and JWTs. */
export const SCOPED_TOKEN_PREFIX = 'wds_';

export type ScopedAccess = 'read' | 'write';

/** What a scoped token grants: `access` to one dataset's files until `expiresAt`, on behalf of `issuer`. */
export interface ScopedTokenClaims {
  datasetId: string;
  access: ScopedAccess;
  /** The user who asked for it (recorded as the actor in the audit log). */
  issuer: string;
  /** Unix seconds. */
  issuedAt: number;
  /** Unix seconds; the token is refused after this. */
  expiresAt: number;
}

export type ScopedTokenCheck = { ok: true; claims: ScopedTokenClaims } | { ok: false; reason: string };

/** On the wire: short field names to keep the header small. */
const payloadSchema = z.strictObject({
  v: z.literal(1),
  d: z.string().min(1).max(300),
  a: z.enum(['read', 'write']),
  u: z.string().min(1).max(300),
  i: z.number().int(),
  e: z.number().int(),
});
type Payload = z.output<typeof payloadSchema>;

/** HMAC-SHA256 over a label and every field, one per line (a value with '\n' is refused before signing). */
function sign(key: Buffer, p: Payload): Buffer {
  return createHmac('sha256', key)
    .update(['wharf-scoped-token-v1', p.v, p.d, p.a, p.u, p.i, p.e].join('\n'))
    .digest();
}

export function isScopedToken(token: string): boolean {
  return token.startsWith(SCOPED_TOKEN_PREFIX);
}

/** `wds_<base64url JSON>.<base64url HMAC>`, signed with the deployment's key (see service-key.ts). */
export function encodeScopedToken(key: Buffer, claims: ScopedTokenClaims): string {
  const payload: Payload = {
    v: 1,
    d: claims.datasetId,
    a: claims.access,
    u: claims.issuer,
    i: claims.issuedAt,
    e: claims.expiresAt,
  };
  if (payload.d.includes('\n') || payload.u.includes('\n')) {
    throw new Error('scoped token fields must not contain a newline');
  }
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${SCOPED_TOKEN_PREFIX}${body}.${sign(key, payload).toString('base64url')}`;
}

/**
 * Checks a scoped token's form, signature (constant-time) and expiry. Never throws: a refusal says why
 * (`malformed token`, `bad signature`, `expired at …`), for a 401 that tells the caller what to do.
 */
export function verifyScopedToken(key: Buffer, token: string, nowMs: number = Date.now()): ScopedTokenCheck {
  if (!isScopedToken(token)) return { ok: false, reason: 'not a scoped token' };
  const [body, signature, extra] = token.slice(SCOPED_TOKEN_PREFIX.length).split('.');
  if (!body || !signature || extra !== undefined) return { ok: false, reason: 'malformed token' };
  let payload: Payload;
  try {
    const parsed = payloadSchema.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    if (!parsed.success) return { ok: false, reason: 'malformed token' };
    payload = parsed.data;
  } catch {
    return { ok: false, reason: 'malformed token' };
  }
  if (payload.d.includes('\n') || payload.u.includes('\n')) return { ok: false, reason: 'malformed token' };
  const expected = sign(key, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad signature (tampered, or signed by another deployment)' };
  }
  if (nowMs / 1000 > payload.e) {
    return { ok: false, reason: `expired at ${new Date(payload.e * 1000).toISOString()}` };
  }
  return {
    ok: true,
    claims: {
      datasetId: payload.d,
      access: payload.a,
      issuer: payload.u,
      issuedAt: payload.i,
      expiresAt: payload.e,
    },
  };
}
