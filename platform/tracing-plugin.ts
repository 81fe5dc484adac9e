// An Apollo Server plugin that describes a GraphQL request on its server span (the one graphqlRoute
// starts): named after the operation and its type, with the correlation id, and failed with the
// `extensions.code` of its errors. Variable values and the document are never recorded. On a
// subgraph (`rootFields`), each root field's resolution (a mutation, a query, an `_entities` batch)
// is a span of its own under it.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { context as otelContext, trace } from '@opentelemetry/api';
import { attr, errorCodeOf, recordError, SpanStatusCode, tracer, tracingEnabled } from './tracing';

export function useTracing<TContext extends BaseContext>(service: string, options: { readonly rootFields?: boolean } = {}): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart({ contextValue }) {
      if (!tracingEnabled()) return;
      const span = trace.getActiveSpan();
      if (!span) return;
      const correlationId = (contextValue as { correlationId?: unknown }).correlationId;
      if (typeof correlationId === 'string') span.setAttribute(attr.correlationId, correlationId);
      return {
        async didResolveOperation({ operation, operationName }) {
          const type = operation?.operation ?? 'unknown';
          span.updateName(`${service} ${type}${operationName ? ` ${operationName}` : ''}`);
          span.setAttribute('graphql.operation.type', type);
          if (operationName) span.setAttribute('graphql.operation.name', operationName);
        },
        async didEncounterErrors({ errors }) {
          const codes = [...new Set(errors.map((error) => errorCodeOf(error) ?? 'INTERNAL_SERVER_ERROR'))];
          span.setAttribute(attr.errorCode, codes.join(','));
          for (const error of errors) {
            span.addEvent('graphql.error', { message: error.message, [attr.errorCode]: errorCodeOf(error) ?? 'INTERNAL_SERVER_ERROR', ...(error.path ? { 'graphql.error.path': error.path.join('.') } : {}) });
          }
          span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]?.message ?? 'GraphQL errors' });
        },
        ...(options.rootFields
          ? {
              async executionDidStart() {
                return {
                  willResolveField({ info }) {
                    if (info.path.prev !== undefined) return;
                    const field = tracer().startSpan(`resolve ${info.parentType.name}.${info.fieldName}`, { attributes: { 'graphql.field.name': info.fieldName, 'graphql.field.parent': info.parentType.name } }, otelContext.active());
                    if (info.fieldName === '_entities') {
                      const representations = (info.variableValues as { representations?: unknown }).representations;
                      if (Array.isArray(representations)) field.setAttribute('membership.entities.count', representations.length);
                    }
                    return (error) => {
                      if (error) recordError(field, error);
                      field.end();
                    };
                  },
                };
              },
            }
          : {}),
      };
    },
  };
}
