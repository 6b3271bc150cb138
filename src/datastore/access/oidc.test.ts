import { describe, expect, it } from 'vitest';
import { claimValue, identityFromClaims, looksLikeJwt } from './oidc.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('OIDC claims', () => {
  it('tells JWTs from API tokens and admin tokens with dots', () => {
    expect(looksLikeJwt(`${b64({ alg: 'RS256' })}.${b64({ sub: 'x' })}.sig`)).toBe(true);
    expect(looksLikeJwt('wharf_0123456789ab_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG')).toBe(false);
    expect(looksLikeJwt('my.admin.secret')).toBe(false);
    expect(looksLikeJwt(`${b64({ typ: 'JWT' })}.${b64({})}.x`)).toBe(false);
    expect(looksLikeJwt(`${b64({ alg: 'RS256' })}.${b64({})}`)).toBe(false);
  });

  it('maps the user name (preferred_username, then sub) and the groups', () => {
    expect(
      identityFromClaims({ preferred_username: 'olga', sub: 's', groups: ['b', 'a', 'a', ''] }, {}),
    ).toEqual({
      ok: true,
      identity: { username: 'olga', groups: ['a', 'b'], expiresAt: undefined },
    });
    expect(identityFromClaims({ sub: 'user-1', exp: 5, groups: 'solo' }, {})).toEqual({
      ok: true,
      identity: { username: 'user-1', groups: ['solo'], expiresAt: 5 },
    });
    // A configured claim has no fallback; nested claims by dotted path; a literal dotted name wins.
    expect(identityFromClaims({ sub: 'x' }, { usernameClaim: 'email' }).ok).toBe(false);
    const nested = identityFromClaims(
      { email: 'o@x.org', realm_access: { roles: ['r1'] } },
      { usernameClaim: 'email', groupsClaim: 'realm_access.roles' },
    );
    expect(nested).toEqual({
      ok: true,
      identity: { username: 'o@x.org', groups: ['r1'], expiresAt: undefined },
    });
    expect(claimValue({ 'https://x.org/groups': ['g'] }, 'https://x.org/groups')).toEqual(['g']);
    expect(identityFromClaims({ preferred_username: 'a/b' }, {}).ok).toBe(false);
    expect(identityFromClaims({}, {})).toEqual({
      ok: false,
      reason: 'the token has no user name claim "preferred_username"',
    });
  });
});
