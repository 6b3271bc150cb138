import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  encodeScopedToken,
  isScopedToken,
  verifyScopedToken,
  type ScopedTokenClaims,
} from './scoped-token.js';

const key = randomBytes(32);
const now = Date.UTC(2026, 0, 1);
const claims: ScopedTokenClaims = {
  datasetId: '10378.1/42',
  access: 'read',
  issuer: 'alice',
  issuedAt: now / 1000,
  expiresAt: now / 1000 + 3600,
};

describe('scoped tokens', () => {
  it('round-trips the claims', () => {
    const token = encodeScopedToken(key, claims);
    expect(isScopedToken(token)).toBe(true);
    expect(token).toMatch(/^wds_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyScopedToken(key, token, now + 1000)).toEqual({ ok: true, claims });
  });

  it('refuses expired, tampered, foreign and malformed tokens with a reason', () => {
    const token = encodeScopedToken(key, claims);
    expect(verifyScopedToken(key, token, now + 3601_000)).toEqual({
      ok: false,
      reason: 'expired at 2026-01-01T01:00:00.000Z',
    });
    const [body, sig] = token.slice(4).split('.');
    const payload = JSON.parse(Buffer.from(body!, 'base64url').toString('utf8'));
    for (const change of [{ a: 'write' }, { d: '10378.1/43' }, { e: payload.e + 60 }, { u: 'mallory' }]) {
      const forged = Buffer.from(JSON.stringify({ ...payload, ...change })).toString('base64url');
      const check = verifyScopedToken(key, `wds_${forged}.${sig}`, now);
      expect(check.ok).toBe(false);
      expect(check.ok ? '' : check.reason).toMatch(/bad signature/);
    }
    expect(verifyScopedToken(randomBytes(32), token, now).ok).toBe(false);
    for (const bad of [
      'wds_',
      'wds_abc',
      'wds_a.b.c',
      `wds_${body}.`,
      'wharf_x',
      `wds_${Buffer.from('{}').toString('base64url')}.${sig}`,
    ]) {
      const check = verifyScopedToken(key, bad, now);
      expect(check.ok, bad).toBe(false);
    }
  });
});
