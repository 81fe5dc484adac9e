// The GraphQL edge of the coded errors: a DomainError becomes `extensions.code` plus its details;
// anything unexpected is logged and answered as INTERNAL_SERVER_ERROR without internals. What is
// answered repeats little of the client's input, and no schema suggestion in production.
import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { clientSafe, type ClientErrorOptions } from '../../platform/client-errors';
import { isDomainError } from '../../platform/errors';
import type { Logger } from '../../platform/logger';

const apolloCodes = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
  'UNAUTHENTICATED',
  'FORBIDDEN',
]);

export function formatErrorWith(logger: Logger, options: ClientErrorOptions = { hideSuggestions: false }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (isDomainError(original)) {
      return clientSafe({ ...formatted, message: original.message, extensions: { ...original.details, code: original.code } }, options);
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && apolloCodes.has(code)) return clientSafe(formatted, options);
    logger.error({ err: original }, 'unexpected error in a resolver');
    return {
      message: 'Internal server error: the failure was logged.',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
