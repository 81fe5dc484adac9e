// The coded errors a gateway subscription can end with; each tells the client what to do next.
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { SUBSCRIPTION_INTERRUPTED, SUBSCRIPTION_OVERFLOW } from '../../platform/subscription-protocol';

/** The client fell behind: events after `cursor` were dropped; resubscribe with it to get them. */
export function overflowError(cursor: string | null): GraphQLError {
  return new GraphQLError(
    `You fell behind: the subscription's buffer overflowed and it was ended. Resubscribe with extensions.cursor ${
      cursor === null ? 'of your last event' : `"${cursor}"`
    } to get the events you missed.`,
    { extensions: { code: SUBSCRIPTION_OVERFLOW, cursor } },
  );
}

/** The subgraph connection dropped (restart, deploy): resubscribe from `cursor`. */
export function interruptedError(cursor: string | null, reason: string): GraphQLError {
  return new GraphQLError(`The subscription was interrupted (${reason}): resubscribe with extensions.cursor to resume.`, {
    extensions: { code: SUBSCRIPTION_INTERRUPTED, cursor },
  });
}

export function tokenExpiredError(): GraphQLError {
  return new GraphQLError('Your token expired, so the subscription ended: reconnect with a fresh token.', {
    extensions: { code: 'UNAUTHENTICATED' },
  });
}

/** Errors a subgraph answered with, relayed as they are (codes and all). */
export class UpstreamErrors extends Error {
  constructor(readonly errors: readonly GraphQLFormattedError[]) {
    super(errors[0]?.message ?? 'The subgraph refused the subscription.');
    this.name = 'UpstreamErrors';
  }
  /** graphql-js copies an original error's extensions; keep the first error's code visible. */
  get extensions(): Record<string, unknown> {
    return { ...(this.errors[0]?.extensions ?? {}) };
  }
}
