// Puts an HTTP server on its port and says where it answers: the one place servers start listening.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  readonly port: number;
  /** Base URL a person or a client on this machine can use (0.0.0.0 shown as localhost). */
  readonly origin: string;
}

export async function listen(server: http.Server, port: number, host: string): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return { port: actual, origin: `http://${host === '0.0.0.0' ? 'localhost' : host}:${actual}` };
}
