// Puts an HTTP server on its port and says where it answers: the one place servers start listening.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  readonly port: number;
  /** Base URL a person or a client on this machine can use (0.0.0.0 shown as localhost). */
  readonly origin: string;
}

/**
 * How long an idle keep-alive connection stays open (Node's default is 5 s). Longer than the idle
 * timeouts of the clients and load balancers in front (an AWS load balancer's is 60 s, this gateway's
 * agent to the subgraphs 4 s), so that the client is the one to close an idle connection: a server
 * closing it while a request is already on its way makes that request fail with ECONNRESET.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export async function listen(server: http.Server, port: number, host: string): Promise<Listening> {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Node wants the time allowed for a request's headers above the keep-alive timeout.
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return { port: actual, origin: `http://${host === '0.0.0.0' ? 'localhost' : host}:${actual}` };
}
