// The CORS policy: which origins match which patterns, and CORS_ORIGINS as the config reads it.
import { randomBytes } from 'node:crypto';
import { decideCors, originMatches } from '../../platform/cors';
import { ConfigError, loadConfig } from '../../platform/config';

describe('CORS origin patterns', () => {
  it.each([
    ['https://app.example.com', 'https://app.example.com', true],
    ['https://app.example.com', 'https://app.example.com:443', true],
    ['https://app.example.com:8443', 'https://app.example.com', false],
    ['http://app.example.com', 'https://app.example.com', false],
    ['https://evil.example.com', 'https://app.example.com', false],
    ['https://app.example.com.evil.net', 'https://app.example.com', false],
    ['http://localhost:5173', 'http://localhost:*', true],
    ['http://localhost', 'http://localhost:*', true],
    ['http://localhost.evil.net:5173', 'http://localhost:*', false],
    ['https://a.b.example.com', 'https://*.example.com', true],
    ['https://example.com', 'https://*.example.com', false],
    ['https://evilexample.com', 'https://*.example.com', false],
    ['null', 'https://app.example.com', false],
    ['https://anything.net', '*', true],
  ])('%s against %s: %s', (origin, pattern, expected) => {
    expect(originMatches(origin, pattern)).toBe(expected);
  });

  it('lets the server’s own origin through without CORS headers, and refuses others', () => {
    const policy = { origins: ['https://app.example.com'] };
    expect(decideCors(policy, undefined, [])).toEqual({ kind: 'none' });
    expect(decideCors(policy, 'https://app.example.com', [])).toEqual({ kind: 'allowed', origin: 'https://app.example.com' });
    expect(decideCors(policy, 'http://gw:4000', ['http://gw:4000'])).toEqual({ kind: 'none' });
    expect(decideCors(policy, 'https://evil.net', ['http://gw:4000'])).toEqual({ kind: 'refused', origin: 'https://evil.net' });
  });
});

describe('CORS_ORIGINS', () => {
  it('allows local development servers by default, and nothing in production', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).CORS_ORIGINS).toEqual(['http://localhost:*', 'http://127.0.0.1:*']);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: randomBytes(32).toString('hex'), SUBGRAPH_SECRET: randomBytes(32).toString('hex') }).CORS_ORIGINS).toEqual([]);
  });

  it('reads a comma-separated list', () => {
    expect(loadConfig({ CORS_ORIGINS: ' https://app.example.com, http://localhost:* ,' }).CORS_ORIGINS).toEqual([
      'https://app.example.com',
      'http://localhost:*',
    ]);
  });

  it.each(['app.example.com', 'https://app.example.com/path', 'ftp://x.org', 'https://a.*.org'])('refuses %s naming the variable', (value) => {
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(/CORS_ORIGINS/);
  });
});
