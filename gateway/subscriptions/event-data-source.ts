// A GraphQLDataSource that answers once with an event received from the subscription's subgraph,
// standing in for that subgraph in the per-event query plan, so only the OTHER subgraphs are called.
import type { GraphQLDataSource } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';

export class EventDataSource implements GraphQLDataSource {
  constructor(private readonly response: GatewayGraphQLResponse) {}

  process(): Promise<GatewayGraphQLResponse> {
    return Promise.resolve(this.response);
  }
}
