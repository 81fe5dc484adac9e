// Client tokens: verified once per token string and secret, then remembered until they expire; a
// remembered token is still refused once its `exp` has passed, and under another secret.
import { mintClientToken, verifyClientToken } from '../../platform/auth';

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
