// The gateway's graphql-ws connections to subgraphs, against a real graphql-ws server: closed, they
// leave nothing behind that would keep a stopped gateway's process alive (patches/graphql-ws).
import { createHook } from 'node:async_hooks';
import type { AddressInfo } from 'node:net';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { UpstreamClients } from '../../gateway/subscriptions/upstream-clients';
import { eventually } from '../support/wait';

const schema = buildSchema('type Query { ok: Boolean } type Subscription { tick: Int }');
const roots = {
  subscription: {
    tick: async function* () {
      yield { tick: 1 };
    },
  },
};

/** Timers that graphql-ws's client starts, by async id, until they fire or are cleared. */
function clientTimers() {
  const pending = new Map<number, { hasRef(): boolean; _idleTimeout?: number; _destroyed?: boolean }>();
  const hook = createHook({
    init(id, type, _trigger, resource) {
      if (type === 'Timeout' && /graphql-ws[\\/]dist[\\/]client/.test(new Error().stack ?? '')) pending.set(id, resource as { hasRef(): boolean });
    },
    destroy(id) {
      pending.delete(id);
    },
  }).enable();
  return {
    /** The delays (ms) of those still due to run and keeping the process alive. */
    holdingTheProcess: () => [...pending.values()].filter((timer) => !timer._destroyed && timer.hasRef()).map((timer) => timer._idleTimeout),
    stop: () => hook.disable(),
  };
}

describe('UpstreamClients', () => {
  it('leaves no timer of its connections running once closed, even right after a subscription ended', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const disposeServer = useServer({ schema, roots }, server);
    const { port } = server.address() as AddressInfo;
    const timers = clientTimers();
    const clients = new UpstreamClients({ member: `http://127.0.0.1:${port}/graphql` }, 'upstream-clients-test-secret');
    try {
      const received: unknown[] = [];
      await new Promise<void>((resolve, reject) =>
        clients.subscribe('member', { query: 'subscription { tick }' }, { next: (result) => received.push(result.data), error: reject, complete: resolve }),
      );
      expect(received).toEqual([{ tick: 1 }]);
      // The subscription's end started the connection's idle close, due in a second.
      expect(timers.holdingTheProcess()).toContain(1000);

      // Closing stops it at once; the others (keep-alive ping, the socket's close handshake) stop
      // when the connection has closed.
      await clients.close();
      expect(timers.holdingTheProcess()).not.toContain(1000);
      await eventually(() => timers.holdingTheProcess().length === 0, 'the client to have no timer left', 900);
    } finally {
      timers.stop();
      await disposeServer.dispose();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
