// How the gateway calls a subgraph: over HTTP, with the caller's identity and correlation id in a
// header signed with SUBGRAPH_SECRET (subgraphs refuse calls without it).
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { CORRELATION_ID_HEADER, GATEWAY_IDENTITY_HEADER, signForwardedIdentity } from '../platform/auth';
import type { GatewayContext } from './context';

export class SignedSubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    private readonly subgraphSecret: string,
  ) {
    super({ url });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    // Health checks and schema loads run without a request context.
    const identity = 'identity' in context ? (context.identity ?? null) : null;
    const correlationId = 'correlationId' in context && context.correlationId ? context.correlationId : 'gateway';
    request.http?.headers.set(GATEWAY_IDENTITY_HEADER, signForwardedIdentity({ identity, correlationId }, this.subgraphSecret));
    request.http?.headers.set(CORRELATION_ID_HEADER, correlationId);
  }
}
