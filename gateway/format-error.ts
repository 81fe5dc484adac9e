// What the gateway answers for an error, over HTTP and WebSocket alike: a coded error as a client may
// see it (platform/client-errors.ts: short echoes, no suggestions in production, no internal
// response); an uncoded failure of the gateway itself is logged and answered as
// INTERNAL_SERVER_ERROR without its message, which may name a subgraph's URL or quote its answer.
import type { GraphQLFormattedError } from 'graphql';
import { clientSafe, type ClientErrorOptions } from '../platform/client-errors';
import type { Logger } from '../platform/logger';

export const INTERNAL_ERROR_MESSAGE = 'Internal server error: the failure was logged.';

export function gatewayErrorFormatter(logger: Logger, options: ClientErrorOptions) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (code === undefined || code === 'INTERNAL_SERVER_ERROR') {
      // A subgraph's own internal errors (serviceName set) were logged, and masked, there.
      if (formatted.extensions?.serviceName === undefined) logger.error({ err: error }, 'unexpected error at the gateway');
      return {
        message: INTERNAL_ERROR_MESSAGE,
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      };
    }
    return clientSafe(formatted, options);
  };
}
