// What every subgraph resolver gets: the caller (as forwarded and signed by the gateway), the
// request's correlation id (carried into every event it causes) and a logger bound to both.
import { ForbiddenError, UnauthenticatedError, ValidationError } from '../../platform/errors';
import { checkIdempotencyKey } from '../../platform/idempotency-key';
import type { Identity } from '../../platform/auth';
import type { Actor, CausationContext } from '../../messaging/events/envelope';
import type { Logger } from '../../platform/logger';

export interface SubgraphContext {
  readonly identity: Identity | null;
  readonly correlationId: string;
  /** The request's `Idempotency-Key` header (forwarded by the gateway), unchecked. */
  readonly idempotencyKey?: string | null;
  readonly logger: Logger;
}

export function requireIdentity(ctx: SubgraphContext): Identity {
  if (!ctx.identity) throw new UnauthenticatedError();
  return ctx.identity;
}

export function requireAdmin(ctx: SubgraphContext): Identity {
  const identity = requireIdentity(ctx);
  if (identity.role !== 'admin') throw new ForbiddenError('Only an admin may do this.');
  return identity;
}

/** A member acts on itself only; an admin on anyone. */
export function requireSelfOrAdmin(ctx: SubgraphContext, memberId: string): Identity {
  const identity = requireIdentity(ctx);
  if (identity.role !== 'admin' && identity.sub !== memberId) {
    throw new ForbiddenError(`A member may only act on itself (you are ${identity.sub}, not ${memberId}).`);
  }
  return identity;
}

export function actorOf(ctx: SubgraphContext): Actor | null {
  return ctx.identity ? { id: ctx.identity.sub, role: ctx.identity.role } : null;
}

/** The causation context of an append made on behalf of this request. */
export function causationOf(ctx: SubgraphContext): CausationContext {
  return { correlationId: ctx.correlationId, causationId: null, actor: actorOf(ctx) };
}

/**
 * The idempotency key of a creating mutation: its `idempotencyKey` field or argument, or the
 * `Idempotency-Key` header; both given and different is BAD_USER_INPUT. Null when neither is.
 */
export function idempotencyKeyOf(ctx: SubgraphContext, given: string | null | undefined): string | null {
  const header = ctx.idempotencyKey ?? null;
  const field = given ?? null;
  if (header !== null && field !== null && header !== field) {
    throw new ValidationError('idempotencyKey and the Idempotency-Key header differ: send one key.', { field: 'idempotencyKey' });
  }
  const key = field ?? header;
  return key === null ? null : checkIdempotencyKey(key);
}
