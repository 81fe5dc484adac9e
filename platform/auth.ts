// Identity: client tokens (HS256 JWTs verified at the gateway) and the signed identity header the
// gateway forwards to subgraphs, which refuse any request that does not carry a valid one.
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { UnauthenticatedError } from './errors';

/**
 * jsonwebtoken tries a string secret as a PEM private and public key before using it as an HMAC
 * secret (about 1 ms per call); a key object skips that. One per secret, made on first use.
 */
const keys = new Map<string, KeyObject>();
function hmacKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = createSecretKey(Buffer.from(secret, 'utf8'))));
  return key;
}

export type Role = 'member' | 'admin';
export const roles: readonly Role[] = ['member', 'admin'];

export interface Identity {
  /** Member id for role `member`; the admin's own id for role `admin`. */
  readonly sub: string;
  readonly role: Role;
  /** Expiry of the client token (epoch seconds), so long-lived subscriptions can end on time. */
  readonly expiresAt: number | null;
}

export const GATEWAY_IDENTITY_HEADER = 'x-gateway-identity';
export const CORRELATION_ID_HEADER = 'x-correlation-id';

const CLIENT_AUDIENCE = 'membership-api';
const SUBGRAPH_AUDIENCE = 'membership-subgraph';
/** Forwarded identities live just long enough for one subgraph call. */
const FORWARD_TTL_SECONDS = 60;

function isRole(value: unknown): value is Role {
  return value === 'member' || value === 'admin';
}

export function mintClientToken(
  claims: { sub: string; role: Role },
  secret: string,
  options: { expiresInSeconds?: number; nowSeconds?: number } = {},
): string {
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  return jwt.sign(
    { sub: claims.sub, role: claims.role, iat: now, exp: now + (options.expiresInSeconds ?? 3600) },
    hmacKey(secret),
    { algorithm: 'HS256', audience: CLIENT_AUDIENCE },
  );
}

/**
 * Client tokens verified before, per secret (the key object): a client sends the same token with
 * every request and every subscription, and verifying it (jsonwebtoken) took about 3 % of the
 * gateway's CPU under load. A token string verified once stays valid until its `exp`, checked on every use;
 * tokens that failed are not kept. At most VERIFIED_TOKENS_KEPT per secret, the least recently used
 * going first.
 */
const verifiedTokens = new WeakMap<KeyObject, LRUCache<string, Identity>>();
const VERIFIED_TOKENS_KEPT = 10_000;

function expiredToken(): UnauthenticatedError {
  return new UnauthenticatedError('The token has expired: sign in again.');
}

/** Verify a client's bearer token; throws UnauthenticatedError saying what is wrong with it. */
export function verifyClientToken(token: string, secret: string, nowSeconds?: number): Identity {
  const key = hmacKey(secret);
  let cache = verifiedTokens.get(key);
  if (!cache) verifiedTokens.set(key, (cache = new LRUCache({ max: VERIFIED_TOKENS_KEPT })));
  const known = cache.get(token);
  if (known) {
    // jsonwebtoken's rule: expired from the second `exp` names.
    if (known.expiresAt !== null && (nowSeconds ?? Math.floor(Date.now() / 1000)) >= known.expiresAt) {
      cache.delete(token);
      throw expiredToken();
    }
    return known;
  }
  const identity = verifyClientTokenUncached(token, key, nowSeconds);
  cache.set(token, identity);
  return identity;
}

function verifyClientTokenUncached(token: string, key: KeyObject, nowSeconds: number | undefined): Identity {
  let decoded: jwt.JwtPayload | string;
  try {
    decoded = jwt.verify(token, key, {
      algorithms: ['HS256'],
      audience: CLIENT_AUDIENCE,
      ...(nowSeconds === undefined ? {} : { clockTimestamp: nowSeconds }),
    });
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) throw expiredToken();
    if (error instanceof jwt.JsonWebTokenError) throw new UnauthenticatedError(`The token is not valid (${error.message}).`);
    throw error;
  }
  if (typeof decoded === 'string' || typeof decoded.sub !== 'string' || decoded.sub === '' || !isRole(decoded.role)) {
    throw new UnauthenticatedError('The token must carry a subject (`sub`) and a role (`member` or `admin`).');
  }
  return { sub: decoded.sub, role: decoded.role, expiresAt: typeof decoded.exp === 'number' ? decoded.exp : null };
}

/** Parse `Authorization: Bearer <token>`; null when the header is absent. */
export function bearerToken(header: string | undefined | null): string | null {
  if (header === undefined || header === null || header === '') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new UnauthenticatedError('The Authorization header must be "Bearer <token>".');
  return match[1];
}

export interface ForwardedRequest {
  readonly identity: Identity | null;
  readonly correlationId: string;
}

/** Signed by the gateway for every subgraph call (anonymous callers included). */
export function signForwardedIdentity(request: ForwardedRequest, secret: string): string {
  const { identity, correlationId } = request;
  return jwt.sign(
    { sub: identity?.sub ?? '', role: identity?.role ?? null, cexp: identity?.expiresAt ?? null, cid: correlationId },
    hmacKey(secret),
    { algorithm: 'HS256', audience: SUBGRAPH_AUDIENCE, expiresIn: FORWARD_TTL_SECONDS },
  );
}

export function verifyForwardedIdentity(header: string, secret: string): ForwardedRequest {
  let decoded: jwt.JwtPayload | string;
  try {
    decoded = jwt.verify(header, hmacKey(secret), { algorithms: ['HS256'], audience: SUBGRAPH_AUDIENCE });
  } catch (error) {
    throw new UnauthenticatedError(`The gateway signature is not valid (${(error as Error).message}).`);
  }
  if (typeof decoded === 'string' || typeof decoded.cid !== 'string') {
    throw new UnauthenticatedError('The gateway signature carries no correlation id.');
  }
  const identity =
    typeof decoded.sub === 'string' && decoded.sub !== '' && isRole(decoded.role)
      ? { sub: decoded.sub, role: decoded.role, expiresAt: typeof decoded.cexp === 'number' ? decoded.cexp : null }
      : null;
  return { identity, correlationId: decoded.cid };
}
