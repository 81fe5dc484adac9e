// A frontend page for the browser test, served from its own origin: it calls the gateway's API
// with a GET query (as urql does) and subscribes over SSE (graphql-sse's browser client), graphql-ws
// (graphql-ws's browser client) and multipart (fetch reading the parts, as Apollo's HttpLink does),
// keeping what each receives on `window` for the test to read.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');
const scripts: Record<string, string> = {
  '/graphql-sse.js': path.join(root, 'node_modules/graphql-sse/umd/graphql-sse.js'),
  '/graphql-ws.js': path.join(root, 'node_modules/graphql-ws/umd/graphql-ws.js'),
};

const PAGE = /* html */ `<!doctype html>
<html><head><meta charset="utf-8"><title>membership frontend</title>
<script src="/graphql-sse.js"></script><script src="/graphql-ws.js"></script></head>
<body><script>
  const params = new URLSearchParams(location.search);
  const api = params.get('api');
  const token = params.get('token');
  const member = params.get('member');
  const authorization = 'Bearer ' + token;
  const WATCH = 'subscription Watch($id: ID!) { memberUpdated(id: $id) { eventType correlationId cursor member { id rewardPoints } } }';
  window.received = { sse: [], ws: [], multipart: [] };
  window.failures = [];

  window.query = fetch(api + '?query=' + encodeURIComponent('query Me { viewer { id role } }'), { headers: { authorization } })
    .then(async (r) => ({ status: r.status, body: await r.json(), correlationId: r.headers.get('x-correlation-id') }))
    .catch((e) => ({ error: String(e) }));

  const sink = (transport) => ({
    next: (result) => window.received[transport].push(result),
    error: (e) => window.failures.push(transport + ': ' + String(e && e.message || e)),
    complete: () => {},
  });
  graphqlSse.createClient({ url: api, headers: { authorization }, retryAttempts: 0 })
    .subscribe({ query: WATCH, variables: { id: member } }, sink('sse'));
  graphqlWs.createClient({ url: api.replace(/^http/, 'ws'), connectionParams: { authorization }, retryAttempts: 0 })
    .subscribe({ query: WATCH, variables: { id: member } }, sink('ws'));

  (async () => {
    try {
      const response = await fetch(api, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', accept: 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0",application/json' },
        body: JSON.stringify({ query: WATCH, variables: { id: member } }),
      });
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        for (let at = buffer.indexOf('\\r\\n--graphql'); at >= 0; at = buffer.indexOf('\\r\\n--graphql')) {
          const part = buffer.slice(0, at);
          buffer = buffer.slice(at + '\\r\\n--graphql'.length);
          const body = part.indexOf('\\r\\n\\r\\n');
          if (body === -1) continue;
          const message = JSON.parse(part.slice(body + 4));
          if (message.payload) window.received.multipart.push(message.payload);
        }
      }
    } catch (e) {
      window.failures.push('multipart: ' + String(e));
    }
  })();
</script></body></html>`;

export interface PageServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function servePage(): Promise<PageServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://page');
    const script = scripts[url.pathname];
    if (script) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      fs.createReadStream(script).pipe(res);
      return;
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
