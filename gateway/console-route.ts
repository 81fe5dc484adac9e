// The web console's files (console/dist, written by `npm run build`) at /console: hashed assets
// cached for good, index.html never, and a Content-Security-Policy that lets the pages reach this
// origin only: the console and its explorer work, and are seen to work, with no internet access.
import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { pathOf, sendJson, type Route } from '../platform/http-server';

export const CONSOLE_PATH = '/console';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.json': 'application/json',
};

/** Same-origin only; inline styles are allowed because React and GraphiQL set style attributes. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Where `npm run build` puts the console: <repository>/console/dist, from the sources or from dist/. */
export function defaultConsoleDir(): string {
  const candidates = [path.resolve(__dirname, '..', 'console', 'dist'), path.resolve(__dirname, '..', '..', 'console', 'dist')];
  return candidates.find((p) => fs.existsSync(path.join(p, 'index.html'))) ?? candidates[0]!;
}

function send(res: http.ServerResponse, method: string, status: number, file: string, body: Buffer, immutable: boolean): void {
  res.writeHead(status, {
    'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(method === 'HEAD' ? undefined : body);
}

/** The console at /console and below: a file of `dir`, or index.html for the console's own paths. */
export function consoleRoute(dir: string): Route {
  const root = path.resolve(dir);
  return {
    methods: ['GET'],
    handle: async (req, res) => {
      const method = req.method ?? 'GET';
      const requested = pathOf(req.url);
      if (requested === CONSOLE_PATH && !(req.url ?? '').split('?')[0]!.endsWith('/')) {
        // Relative asset URLs resolve against /console/.
        res.writeHead(301, { location: `${CONSOLE_PATH}/`, 'content-length': 0 });
        res.end();
        return;
      }
      let relative: string;
      try {
        relative = decodeURIComponent(requested.slice(CONSOLE_PATH.length)).replace(/^\/+/, '');
      } catch {
        sendJson(res, 400, { message: 'Bad path.' });
        return;
      }
      const file = path.resolve(root, relative === '' ? 'index.html' : relative);
      if (file !== root && !file.startsWith(root + path.sep)) {
        sendJson(res, 404, { message: `Nothing at ${requested}.` });
        return;
      }
      const body = await fs.promises.readFile(file).catch(() => null);
      if (body) {
        send(res, method, 200, file, body, relative.startsWith('assets/'));
        return;
      }
      if (relative.startsWith('assets/') || path.extname(relative) !== '') {
        sendJson(res, 404, { message: `Nothing at ${requested}.` });
        return;
      }
      const index = await fs.promises.readFile(path.join(root, 'index.html')).catch(() => null);
      if (!index) {
        sendJson(res, 503, { message: 'The console is not built: run `npm run build` (it writes console/dist).' });
        return;
      }
      send(res, method, 200, 'index.html', index, false);
    },
  };
}

/** The gateway's landing page (GET / from a browser): the console's explorer always, Sandbox when on. */
export function landingPage(options: { sandbox: boolean; console: boolean }): string {
  const items = [
    options.console
      ? `<li><a href="${CONSOLE_PATH}/#/explorer">Explorer</a>: GraphiQL served by this gateway, with schema docs and subscriptions; works with no internet access.</li>
<li><a href="${CONSOLE_PATH}/">Console</a>: live event flow, consumers, sagas, replays, certifications and analytics (sign in with a bearer token).</li>`
      : '',
    options.sandbox ? `<li><a href="/graphql">Apollo Sandbox</a>: Apollo's IDE, loaded from Apollo's CDN, so it needs internet access.</li>` : '',
  ].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Membership events API</title>
<style>body{font-family:system-ui,sans-serif;max-width:720px;margin:60px auto;color:#0f172a}li{margin:10px 0}code{font-size:13px}</style></head>
<body><h1>Membership events API</h1>
<p>GraphQL over HTTP and WebSocket (graphql-ws) at <code>/graphql</code>. Send <code>Authorization: Bearer &lt;token&gt;</code> (<code>npm run token -- --sub a1 --role admin</code>).</p>
<ul>
${items}
</ul>
</body></html>`;
}
