// The gateway's graphql-ws connections to subgraphs: one shared client (one WebSocket) per
// subgraph URL, opened on first use and closed when idle. The connection itself is signed as the
// gateway; each subscribe carries the caller's signed identity. No automatic retry: a dropped
// upstream ends its subscriptions with a resume cursor (federated-upstream.ts).
import { createClient, type Client, type FormattedExecutionResult, type SubscribePayload } from 'graphql-ws';
import WebSocket from 'ws';
import { signForwardedIdentity } from '../../platform/auth';
import { SubscriptionExtension } from '../../platform/subscription-protocol';

export interface UpstreamSink {
  next(result: FormattedExecutionResult<Record<string, unknown>, Record<string, unknown>>): void;
  error(error: unknown): void;
  complete(): void;
}

/** ws:// (or wss://) of a subgraph's http(s) /graphql URL. */
export function webSocketUrlOf(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export class UpstreamClients {
  private readonly clients = new Map<string, Client>();

  constructor(
    private readonly subgraphUrls: Readonly<Record<string, string>>,
    private readonly subgraphSecret: string,
  ) {}

  /** Subscribe on a subgraph (by its supergraph name); returns the function that unsubscribes. */
  subscribe(serviceName: string, payload: SubscribePayload, sink: UpstreamSink): () => void {
    return this.clientFor(serviceName).subscribe(payload, sink);
  }

  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((c) => c.dispose()));
  }

  private clientFor(serviceName: string): Client {
    const httpUrl = this.subgraphUrls[serviceName];
    if (!httpUrl) throw new Error(`No URL for subgraph "${serviceName}".`);
    let client = this.clients.get(httpUrl);
    if (!client) {
      client = createClient({
        url: webSocketUrlOf(httpUrl),
        webSocketImpl: WebSocket,
        lazy: true,
        lazyCloseTimeout: 1000,
        retryAttempts: 0,
        keepAlive: 10_000,
        // Signed afresh on every (re)connect: the signature is short-lived.
        connectionParams: () => ({
          [SubscriptionExtension.GatewayIdentity]: signForwardedIdentity(null, this.subgraphSecret),
        }),
      });
      this.clients.set(httpUrl, client);
    }
    return client;
  }
}
