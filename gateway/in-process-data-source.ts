// How the gateway calls a subgraph that runs in its own process (`npm start`): no HTTP and no JSON
// round trip, but the same signed call. The caller's identity is signed with SUBGRAPH_SECRET exactly
// as for HTTP, and the subgraph verifies that signature before any GraphQL runs (the subgraph
// server's `execute`, the same check its /graphql route makes), so a call is accepted or refused on
// the same grounds either way. Statuses map to the client's errors as over HTTP.
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { signForwardedIdentity } from '../platform/auth';
import type { GatewayContext } from './context';
import { SignedSubgraphDataSource } from './subgraph-data-source';

/** One call to a subgraph in this process: what the HTTP call carries in its headers and body. */
export interface InProcessCall {
  /** The caller's identity signed with SUBGRAPH_SECRET (the `x-gateway-identity` header over HTTP). */
  readonly identitySignature: string;
  readonly correlationId: string;
  readonly idempotencyKey: string | null;
  readonly request: {
    readonly query: string;
    readonly operationName?: string;
    readonly variables?: Record<string, unknown>;
    readonly extensions?: Record<string, unknown>;
  };
}

/** A subgraph served in this process (subgraphs/common/subgraph-server.ts `RunningServer.execute`). */
export interface InProcessSubgraph {
  /** Verifies the signature, runs the operation; answers the status and body its /graphql would. */
  execute(call: InProcessCall): Promise<{ readonly status: number; readonly body: unknown }>;
}

export class InProcessSubgraphDataSource extends SignedSubgraphDataSource {
  constructor(
    private readonly subgraph: InProcessSubgraph,
    subgraphSecret: string,
    name: string,
  ) {
    super(`in-process:${name}`, subgraphSecret, name);
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { request, context } = options;
    if (!request.query) throw new Error('Missing query');
    const identity = 'identity' in context ? (context.identity ?? null) : null;
    const correlationId = 'correlationId' in context && context.correlationId ? context.correlationId : 'gateway';
    const idempotencyKey = 'idempotencyKey' in context && context.idempotencyKey ? context.idempotencyKey : null;
    let answer;
    try {
      answer = await this.subgraph.execute({
        identitySignature: signForwardedIdentity(identity, this.subgraphSecret),
        correlationId,
        idempotencyKey,
        request: {
          query: request.query,
          ...(request.operationName ? { operationName: request.operationName } : {}),
          ...(request.variables ? { variables: request.variables } : {}),
          ...(request.extensions ? { extensions: request.extensions } : {}),
        },
      });
    } catch (error) {
      // The subgraph is stopping (its server refuses new operations): it did not run this one.
      throw this.failure('UNAVAILABLE', `The ${this.name} subgraph is unavailable: try again shortly.`, { err: error });
    }
    return this.settle(answer.status, answer.body, () => JSON.stringify(answer.body));
  }
}
