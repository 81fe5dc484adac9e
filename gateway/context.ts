// Per-request gateway context: the authenticated caller and the correlation id that follows the
// request into every subgraph call and every event it causes.
import { GraphQLError } from 'graphql';
import { bearerToken, verifyClientToken, type Identity } from '../platform/auth';
import { isDomainError } from '../platform/errors';

export interface GatewayContext {
  readonly identity: Identity | null;
  readonly correlationId: string;
  /** The client's `Idempotency-Key` header, forwarded to the subgraphs as it is (they check it). */
  readonly idempotencyKey?: string | null;
  /** W3C trace context a subscription continues (`traceparent`, `tracestate` of its subscribe message's extensions). */
  readonly trace?: Readonly<Record<string, string>>;
}

/** Authenticate a bearer token; no header means anonymous, a bad one (or one living too long) is refused outright. */
export function authenticate(authorization: string | undefined | null, secret: string, maxLifetimeSeconds?: number): Identity | null {
  try {
    const token = bearerToken(authorization);
    return token === null ? null : verifyClientToken(token, secret, undefined, maxLifetimeSeconds);
  } catch (error) {
    if (isDomainError(error)) {
      throw new GraphQLError(error.message, {
        extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
      });
    }
    throw error;
  }
}
