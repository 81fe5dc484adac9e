// Identity: client tokens (HS256 JWTs verified at the gateway) and the signed identity header the
// gateway forwards to subgraphs, which refuse any request that does not carry a valid one.
import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
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
/** Forwarded identities live just long enough for one subgraph call; subgraphs refuse longer ones. */
export const FORWARD_TTL_SECONDS = 60;
/** How far ahead of a subgraph's clock the gateway's may run (a signature issued later is refused). */
const FORWARD_CLOCK_SKEW_SECONDS = 30;
/** Longest client token lifetime (exp - iat) accepted unless configured (JWT_MAX_LIFETIME_SECONDS). */
export const DEFAULT_CLIENT_TOKEN_MAX_LIFETIME_SECONDS = 86_400;

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
 * gateway's CPU under load. A token string verified once stays valid until its `exp`, checked on every use,
 * as its lifetime is against the caller's cap; tokens that failed are not kept. At most
 * VERIFIED_TOKENS_KEPT per secret, the least recently used going first.
 */
interface VerifiedClientToken {
  readonly identity: Identity & { readonly expiresAt: number };
  /** exp minus iat (minus the time of verification when iat is absent or in the future). */
  readonly lifetimeSeconds: number;
}
const verifiedTokens = new WeakMap<KeyObject, LRUCache<string, VerifiedClientToken>>();
const VERIFIED_TOKENS_KEPT = 10_000;

function expiredToken(): UnauthenticatedError {
  return new UnauthenticatedError('The token has expired: sign in again.');
}

/**
 * Verify a client's bearer token; throws UnauthenticatedError saying what is wrong with it. A token
 * must expire (`exp`), and live no longer than `maxLifetimeSeconds`: a stolen token is worth
 * only so much.
 */
export function verifyClientToken(
  token: string,
  secret: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  maxLifetimeSeconds = DEFAULT_CLIENT_TOKEN_MAX_LIFETIME_SECONDS,
): Identity {
  const key = hmacKey(secret);
  let cache = verifiedTokens.get(key);
  if (!cache) verifiedTokens.set(key, (cache = new LRUCache({ max: VERIFIED_TOKENS_KEPT })));
  let verified = cache.get(token);
  if (verified) {
    // jsonwebtoken's rule: expired from the second `exp` names.
    if (nowSeconds >= verified.identity.expiresAt) {
      cache.delete(token);
      throw expiredToken();
    }
  } else {
    verified = verifyClientTokenUncached(token, key, nowSeconds);
    cache.set(token, verified);
  }
  if (verified.lifetimeSeconds > maxLifetimeSeconds) {
    throw new UnauthenticatedError(
      `The token lives ${verified.lifetimeSeconds} s (from iat to exp), longer than the ${maxLifetimeSeconds} s this API accepts: get a shorter-lived one.`,
    );
  }
  return verified.identity;
}

function verifyClientTokenUncached(token: string, key: KeyObject, nowSeconds: number): VerifiedClientToken {
  let decoded: jwt.JwtPayload | string;
  try {
    decoded = jwt.verify(token, key, { algorithms: ['HS256'], audience: CLIENT_AUDIENCE, clockTimestamp: nowSeconds });
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) throw expiredToken();
    if (error instanceof jwt.JsonWebTokenError) throw new UnauthenticatedError(`The token is not valid (${error.message}).`);
    throw error;
  }
  if (typeof decoded === 'string' || typeof decoded.sub !== 'string' || decoded.sub === '' || !isRole(decoded.role)) {
    throw new UnauthenticatedError('The token must carry a subject (`sub`) and a role (`member` or `admin`).');
  }
  if (typeof decoded.exp !== 'number') throw new UnauthenticatedError('The token must carry an expiry (`exp`): a token valid forever is refused.');
  // A token dated in the future (or undated) counts from now, so its iat cannot stretch its life.
  const issuedAt = typeof decoded.iat === 'number' ? Math.min(decoded.iat, nowSeconds) : nowSeconds;
  return { identity: { sub: decoded.sub, role: decoded.role, expiresAt: decoded.exp }, lifetimeSeconds: decoded.exp - issuedAt };
}

/** Parse `Authorization: Bearer <token>`; null when the header is absent. */
export function bearerToken(header: string | undefined | null): string | null {
  if (header === undefined || header === null || header === '') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new UnauthenticatedError('The Authorization header must be "Bearer <token>".');
  return match[1];
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Use a caller's correlation id when it is sane (1-128 of A-Z a-z 0-9 . _ : -), otherwise start a new one. */
export function correlationIdFrom(value: unknown): string {
  return typeof value === 'string' && CORRELATION_ID.test(value) ? value : randomUUID();
}

/**
 * The caller's identity as the gateway vouches for it to subgraphs: a short-lived HS256 JWT signed
 * with SUBGRAPH_SECRET (anonymous callers included), in the `x-gateway-identity` header or the
 * `gatewayIdentity` extension of a subscribe message. The request's correlation id travels beside
 * it (`x-correlation-id`, extension `correlationId`) and is not part of what is signed: it only
 * traces, it grants nothing.
 *
 * So one signature serves every call of one identity for a while: the gateway signs an identity
 * again once half of its signature's life has passed, and a subgraph verifies each token once and
 * remembers it until it expires. Signing and verifying per call cost about 4 % of the gateway's
 * CPU and 3 % of the subgraphs' under load.
 */
interface SignedIdentity {
  readonly token: string;
  /** When to sign again (epoch ms): half-way through the token's life. */
  readonly renewAt: number;
}
const signedIdentities = new WeakMap<KeyObject, LRUCache<string, SignedIdentity>>();
const verifiedIdentities = new WeakMap<KeyObject, LRUCache<string, { readonly identity: Identity | null; readonly exp: number }>>();
const FORWARDED_IDENTITIES_KEPT = 10_000;

function cacheFor<V extends object>(caches: WeakMap<KeyObject, LRUCache<string, V>>, key: KeyObject): LRUCache<string, V> {
  let cache = caches.get(key);
  if (!cache) caches.set(key, (cache = new LRUCache<string, V>({ max: FORWARDED_IDENTITIES_KEPT })));
  return cache;
}

/** The gateway's signature of a caller's identity (null: anonymous), for subgraph calls. */
export function signForwardedIdentity(identity: Identity | null, secret: string, nowMs = Date.now()): string {
  const key = hmacKey(secret);
  const cache = cacheFor(signedIdentities, key);
  const name = identity === null ? '' : `${identity.sub}\n${identity.role}\n${identity.expiresAt ?? ''}`;
  const known = cache.get(name);
  if (known && nowMs < known.renewAt) return known.token;
  const iat = Math.floor(nowMs / 1000);
  const token = jwt.sign(
    { sub: identity?.sub ?? '', role: identity?.role ?? null, cexp: identity?.expiresAt ?? null, iat, exp: iat + FORWARD_TTL_SECONDS },
    key,
    { algorithm: 'HS256', audience: SUBGRAPH_AUDIENCE },
  );
  cache.set(name, { token, renewAt: nowMs + (FORWARD_TTL_SECONDS * 1000) / 2 });
  return token;
}

/** Check the gateway's signature; the identity it vouches for (null: anonymous). Throws UnauthenticatedError. */
export function verifyForwardedIdentity(token: string, secret: string, nowSeconds = Math.floor(Date.now() / 1000)): Identity | null {
  const key = hmacKey(secret);
  const cache = cacheFor(verifiedIdentities, key);
  const known = cache.get(token);
  if (known && nowSeconds < known.exp) return known.identity;
  let decoded: jwt.JwtPayload | string;
  try {
    decoded = jwt.verify(token, key, { algorithms: ['HS256'], audience: SUBGRAPH_AUDIENCE, clockTimestamp: nowSeconds });
  } catch (error) {
    cache.delete(token);
    throw new UnauthenticatedError(`The gateway signature is not valid (${(error as Error).message}).`);
  }
  if (typeof decoded === 'string' || typeof decoded.exp !== 'number' || typeof decoded.iat !== 'number') {
    throw new UnauthenticatedError('The gateway signature carries no expiry or issue time.');
  }
  // The gateway signs for FORWARD_TTL_SECONDS: anything longer-lived, or issued ahead of this clock
  // by more than the skew allowed, was not signed by a gateway of this deployment (or a leaked secret is in use).
  if (decoded.exp - decoded.iat > FORWARD_TTL_SECONDS || decoded.iat > nowSeconds + FORWARD_CLOCK_SKEW_SECONDS) {
    throw new UnauthenticatedError(`The gateway signature lives longer than the ${FORWARD_TTL_SECONDS} s a gateway signs for.`);
  }
  const identity =
    typeof decoded.sub === 'string' && decoded.sub !== '' && isRole(decoded.role)
      ? { sub: decoded.sub, role: decoded.role, expiresAt: typeof decoded.cexp === 'number' ? decoded.cexp : null }
      : null;
  cache.set(token, { identity, exp: decoded.exp });
  return identity;
}
