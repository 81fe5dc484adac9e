// Servers keep idle keep-alive connections longer than the clients in front of them do, and say so
// in the Keep-Alive header clients read: the client closes an idle connection, never the server
// under a request already on its way (ECONNRESET).
import http from 'node:http';
import { KEEP_ALIVE_TIMEOUT_MS, listen } from '../../platform/http-listen';

describe('listen', () => {
  it('keeps idle connections 65 s, announced in the Keep-Alive header, and closes with them idle', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    const { port } = await listen(server, 0, '127.0.0.1');
    const agent = new http.Agent({ keepAlive: true });
    try {
      const keepAlive = await new Promise<string | undefined>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(String(res.headers['keep-alive'])));
          })
          .on('error', reject);
      });
      expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(60_000);
      expect(keepAlive).toBe(`timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}`);
      expect(server.headersTimeout).toBeGreaterThan(server.keepAliveTimeout);
    } finally {
      // An idle keep-alive connection does not hold up close().
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    }
  });
});
