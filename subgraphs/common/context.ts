// What every subgraph resolver gets: the caller (as forwarded and signed by the gateway), the
// request's correlation id (carried into every event it causes) and a logger bound to both.
import { ForbiddenError, UnauthenticatedError } from '../../platform/errors';
import type { Identity } from '../../platform/auth';
import type { Actor, CausationContext } from '../../messaging/events/envelope';
import type { Logger } from '../../platform/logger';

export interface SubgraphContext {
  readonly identity: Identity | null;
  readonly correlationId: string;
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
