// Client tokens: verified once per token string and secret, then remembered until they expire; a
// remembered token is still refused once its `exp` has passed, and under another secret. The
// gateway's signature of an identity for subgraphs: signed once per identity for half its life,
// verified once per token, refused when forged or expired. Correlation ids: kept when sane.
import jwt from 'jsonwebtoken';
import {
  correlationIdFrom,
  DEFAULT_CLIENT_TOKEN_MAX_LIFETIME_SECONDS,
  mintClientToken,
  signForwardedIdentity,
  verifyClientToken,
  verifyForwardedIdentity,
} from '../../platform/auth';

const SECRET = 'test-secret-that-is-long-enough-0123456789';
const OTHER = 'another-secret-that-is-long-enough-0123456789';
const NOW = 1_800_000_000;

describe('verifyClientToken', () => {
  it('answers the same identity for the same token, and refuses it from its expiry on, remembered or not', () => {
    const token = mintClientToken({ sub: 'm1', role: 'member' }, SECRET, { nowSeconds: NOW, expiresInSeconds: 60 });
    const first = verifyClientToken(token, SECRET, NOW);
    expect(first).toEqual({ sub: 'm1', role: 'member', expiresAt: NOW + 60 });
    expect(verifyClientToken(token, SECRET, NOW + 59)).toEqual(first);
    expect(() => verifyClientToken(token, SECRET, NOW + 60)).toThrow(/expired/);
    // Forgotten once expired: verified again from scratch, still expired.
    expect(() => verifyClientToken(token, SECRET, NOW + 61)).toThrow(/expired/);
  });

  it('refuses a token verified under one secret when checked under another', () => {
    const token = mintClientToken({ sub: 'm1', role: 'admin' }, SECRET, { nowSeconds: NOW, expiresInSeconds: 60 });
    expect(verifyClientToken(token, SECRET, NOW).role).toBe('admin');
    expect(() => verifyClientToken(token, OTHER, NOW)).toThrow(/not valid.*signature/);
  });

  it('refuses a tampered token, however often it is tried', () => {
    const token = mintClientToken({ sub: 'm1', role: 'member' }, SECRET, { nowSeconds: NOW, expiresInSeconds: 60 });
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ sub: 'm1', role: 'admin', iat: NOW, exp: NOW + 60, aud: 'membership-api' })).toString('base64url');
    const forged = `${header}.${payload}.${signature}`;
    for (let i = 0; i < 2; i++) expect(() => verifyClientToken(forged, SECRET, NOW)).toThrow(/not valid/);
  });
});

describe('client token lifetime', () => {
  // No iat unless given (jsonwebtoken would add the real time).
  const sign = (claims: Record<string, unknown>) =>
    jwt.sign({ sub: 'm1', role: 'member', ...claims }, SECRET, { algorithm: 'HS256', audience: 'membership-api', noTimestamp: !('iat' in claims) });

  it('refuses a token without an expiry, however often it is tried', () => {
    const forever = sign({ iat: NOW });
    for (let i = 0; i < 2; i++) expect(() => verifyClientToken(forever, SECRET, NOW)).toThrow(/must carry an expiry/);
  });

  it('refuses a token living longer than the cap (24 h unless configured), remembered or not', () => {
    const year = mintClientToken({ sub: 'm1', role: 'member' }, SECRET, { nowSeconds: NOW, expiresInSeconds: 365 * 86_400 });
    for (let i = 0; i < 2; i++) expect(() => verifyClientToken(year, SECRET, NOW)).toThrow(/lives 31536000 s .* longer than the 86400 s/);
    const day = mintClientToken({ sub: 'm1', role: 'member' }, SECRET, { nowSeconds: NOW, expiresInSeconds: DEFAULT_CLIENT_TOKEN_MAX_LIFETIME_SECONDS });
    expect(verifyClientToken(day, SECRET, NOW).sub).toBe('m1');
    // The cap is the caller's: the same remembered token is refused under a tighter one.
    expect(() => verifyClientToken(day, SECRET, NOW, 3600)).toThrow(/longer than the 3600 s/);
  });

  it('counts the life of a token dated in the future, or undated, from now', () => {
    const future = sign({ iat: NOW + 10 * 86_400, exp: NOW + 10 * 86_400 + 60 });
    expect(() => verifyClientToken(future, SECRET, NOW)).toThrow(/longer than/);
    const undated = sign({ exp: NOW + 2 * 86_400 });
    expect(() => verifyClientToken(undated, SECRET, NOW)).toThrow(/lives 172800 s/);
  });
});

describe('forwarded identities', () => {
  const member = { sub: 'm1', role: 'member' as const, expiresAt: NOW + 3600 };

  it('signs an identity once for half of the signature\'s life, then afresh', () => {
    const first = signForwardedIdentity(member, SECRET, NOW * 1000);
    expect(signForwardedIdentity(member, SECRET, NOW * 1000 + 29_999)).toBe(first);
    const renewed = signForwardedIdentity(member, SECRET, NOW * 1000 + 30_000);
    expect(renewed).not.toBe(first);
    // Other identities, anonymous callers and other secrets get signatures of their own.
    expect(signForwardedIdentity({ ...member, role: 'admin' }, SECRET, NOW * 1000)).not.toBe(first);
    expect(signForwardedIdentity(null, SECRET, NOW * 1000)).not.toBe(first);
    expect(signForwardedIdentity(member, OTHER, NOW * 1000)).not.toBe(first);
  });

  it('verifies to the identity signed (null for anonymous) until the signature expires, remembered or not', () => {
    const token = signForwardedIdentity(member, SECRET, (NOW + 100) * 1000);
    expect(verifyForwardedIdentity(token, SECRET, NOW + 100)).toEqual(member);
    expect(verifyForwardedIdentity(token, SECRET, NOW + 159)).toEqual(member);
    expect(() => verifyForwardedIdentity(token, SECRET, NOW + 160)).toThrow(/not valid.*expired/);
    expect(verifyForwardedIdentity(signForwardedIdentity(null, SECRET, (NOW + 200) * 1000), SECRET, NOW + 200)).toBeNull();
  });

  it('refuses a signature of another secret, and a forged one however often it is tried', () => {
    const token = signForwardedIdentity(member, SECRET, (NOW + 300) * 1000);
    expect(verifyForwardedIdentity(token, SECRET, NOW + 300)).toEqual(member);
    expect(() => verifyForwardedIdentity(token, OTHER, NOW + 300)).toThrow(/not valid/);
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ sub: 'm1', role: 'admin', cexp: null, iat: NOW + 300, exp: NOW + 360, aud: 'membership-subgraph' })).toString('base64url');
    for (let i = 0; i < 2; i++) expect(() => verifyForwardedIdentity(`${header}.${payload}.${signature}`, SECRET, NOW + 300)).toThrow(/not valid/);
  });
});

describe('forwarded identity lifetime', () => {
  const sign = (claims: Record<string, unknown>) =>
    jwt.sign({ sub: 'm1', role: 'admin', cexp: null, ...claims }, SECRET, { algorithm: 'HS256', audience: 'membership-subgraph', noTimestamp: !('iat' in claims) });

  it('refuses a signature living longer than the 60 s a gateway signs for, even with the right secret', () => {
    const yearLong = sign({ iat: NOW, exp: NOW + 365 * 86_400 });
    for (let i = 0; i < 2; i++) expect(() => verifyForwardedIdentity(yearLong, SECRET, NOW)).toThrow(/longer than the 60 s/);
    expect(verifyForwardedIdentity(sign({ iat: NOW, exp: NOW + 60 }), SECRET, NOW)).toEqual({ sub: 'm1', role: 'admin', expiresAt: null });
  });

  it('refuses a signature issued ahead of this clock by more than the allowed skew, or without an issue time', () => {
    expect(() => verifyForwardedIdentity(sign({ iat: NOW + 3600, exp: NOW + 3660 }), SECRET, NOW)).toThrow(/longer than the 60 s/);
    expect(verifyForwardedIdentity(sign({ iat: NOW + 20, exp: NOW + 80 }), SECRET, NOW)?.sub).toBe('m1');
    expect(() => verifyForwardedIdentity(sign({ exp: NOW + 30 }), SECRET, NOW)).toThrow(/no expiry or issue time/);
  });
});

describe('correlationIdFrom', () => {
  it('keeps a sane correlation id and replaces anything else with a new one', () => {
    expect(correlationIdFrom('req-42:a.b_c')).toBe('req-42:a.b_c');
    for (const bad of [undefined, '', 'has space', 'x'.repeat(129), ['a', 'b'], 42]) {
      expect(correlationIdFrom(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
