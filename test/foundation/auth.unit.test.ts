// Client tokens: verified once per token string and secret, then remembered until they expire; a
// remembered token is still refused once its `exp` has passed, and under another secret. The
// gateway's signature of an identity for subgraphs: signed once per identity for half its life,
// verified once per token, refused when forged or expired. Correlation ids: kept when sane.
import { correlationIdFrom, mintClientToken, signForwardedIdentity, verifyClientToken, verifyForwardedIdentity } from '../../platform/auth';

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

describe('correlationIdFrom', () => {
  it('keeps a sane correlation id and replaces anything else with a new one', () => {
    expect(correlationIdFrom('req-42:a.b_c')).toBe('req-42:a.b_c');
    for (const bad of [undefined, '', 'has space', 'x'.repeat(129), ['a', 'b'], 42]) {
      expect(correlationIdFrom(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
