// Hive Gateway's configuration for the subscription and query benchmarks (loaded by its CLI from
// dist/bench/hive/gateway.config.js): serves the product's supergraph and subgraphs the way our
// subgraphs require — every HTTP call carries the signed `x-gateway-identity` header, each
// graphql-ws connection_init carries a gateway signature, and each subscribe carries the caller's
// signed identity in `extensions.gatewayIdentity` (platform/subscription-protocol.ts).
// Written against Hive's hooks structurally (no import of its types): the product's typecheck runs
// without bench/hive/node_modules.
import { randomUUID } from 'node:crypto';
import {
  CORRELATION_ID_HEADER,
  GATEWAY_IDENTITY_HEADER,
  bearerToken,
  signForwardedIdentity,
  verifyClientToken,
  type Identity,
} from '../../platform/auth';
import { loadConfig } from '../../platform/config';
import { SubscriptionExtension } from '../../platform/subscription-protocol';

/** The parts of Hive's subgraph execution request this plugin reads and rewrites. */
interface SubgraphExecutionRequest {
  readonly operationType?: string;
  readonly context?: { readonly headers?: Record<string, unknown> };
  readonly extensions?: Record<string, unknown>;
}

interface OnSubgraphExecutePayload {
  readonly executionRequest: SubgraphExecutionRequest;
  setExecutionRequest(request: SubgraphExecutionRequest): void;
}

/** The keys the product's gateway uses. */
const { GatewayIdentity: GATEWAY_IDENTITY_EXTENSION, CorrelationId: CORRELATION_ID_EXTENSION } = SubscriptionExtension;

const cfg = loadConfig(process.env);
const subgraphUrls = JSON.parse(process.env.BENCH_SUBGRAPH_URLS ?? '{}') as Record<string, string>;

/** The caller's identity from its bearer token (HTTP header, or graphql-ws connection_init params). */
function identityOf(request: SubgraphExecutionRequest): Identity | null {
  const headers = request.context?.headers ?? {};
  const authorization = headers.authorization ?? headers.Authorization;
  try {
    const token = typeof authorization === 'string' ? bearerToken(authorization) : null;
    return token ? verifyClientToken(token, cfg.JWT_SECRET) : null;
  } catch {
    // Like our gateway's HTTP path: a bad token calls subgraphs anonymously, which refuse what needs one.
    return null;
  }
}

/** Signs each subgraph call as our gateway does (SignedSubgraphDataSource, UpstreamClients). */
function useSignedSubgraphCalls() {
  return {
    onSubgraphExecute({ executionRequest, setExecutionRequest }: OnSubgraphExecutePayload): void {
      const correlationId = randomUUID();
      const signature = signForwardedIdentity(identityOf(executionRequest), cfg.SUBGRAPH_SECRET);
      const extensions = executionRequest.extensions ?? {};
      if (executionRequest.operationType === 'subscription') {
        // graphql-ws transport: `extensions` goes out in the subscribe message; `connectionParams`
        // is merged into the connection_init payload of the (lazy) connection to the subgraph.
        setExecutionRequest({
          ...executionRequest,
          extensions: {
            ...extensions,
            [GATEWAY_IDENTITY_EXTENSION]: signature,
            [CORRELATION_ID_EXTENSION]: correlationId,
            connectionParams: {
              [GATEWAY_IDENTITY_EXTENSION]: signForwardedIdentity(null, cfg.SUBGRAPH_SECRET),
            },
          },
        });
        return;
      }
      // HTTP transport: `extensions.headers` become request headers (and leave the body).
      const headers = (extensions.headers ?? {}) as Record<string, string>;
      setExecutionRequest({
        ...executionRequest,
        extensions: { ...extensions, headers: { ...headers, [GATEWAY_IDENTITY_HEADER]: signature, [CORRELATION_ID_HEADER]: correlationId } },
      });
    },
  };
}

export const gatewayConfig = {
  // Subscriptions to every subgraph over graphql-ws at its /graphql; queries and mutations over HTTP.
  transportEntries: Object.fromEntries(
    Object.entries(subgraphUrls).map(([name, url]) => [name, { location: url, options: { subscriptions: { kind: 'ws' } } }]),
  ),
  plugins: () => [useSignedSubgraphCalls()],
  logging: 'error',
  graphiql: false,
  landingPage: false,
  maskedErrors: false,
};
