// Graceful drain of an HTTP server: on shutdown no request is executed without being answered.
// A request that reached a handler before the drain runs to the end and is answered (with
// `Connection: close`); one that arrives during the drain, on a keep-alive connection, is refused
// with 503 UNAVAILABLE before anything runs; new connections are refused by the closed listener.
//
// Why not Apollo's drain plugin (or `server.close()` alone): both close idle keep-alive connections
// at once and end a busy one as soon as its response is written, without telling the client. A
// client that picked the connection for its next request at that moment has its request read and
// executed by the server, then its connection closed under it: measured under load, requests got
// ECONNRESET after their mutation ran. Here a connection is only closed by the server when no
// request can be on it, or after a response that said `Connection: close`.
//
// The contract callers (the gateway's subgraph calls) rely on: 503 with `UNAVAILABLE` means the
// request was not executed, so it is safe to send again, to this instance or another.
import type http from 'node:http';
import net from 'node:net';

/** How long a connection idle at the start of the drain stays open for a request to refuse. */
export const DRAIN_IDLE_GRACE_MS = 500;
/** After this long, connections still busy are closed anyway (a request slower than this is cut). */
export const DRAIN_HARD_DEADLINE_MS = 10_000;

export const DRAINING_MESSAGE = 'The server is shutting down and did not run this request: send it again.';

export interface HttpDrainOptions {
  /** How long idle keep-alive connections stay open once the drain starts (DRAIN_IDLE_GRACE_MS). */
  readonly idleGraceMs?: number;
  /** When busy connections are closed anyway (DRAIN_HARD_DEADLINE_MS). */
  readonly hardDeadlineMs?: number;
}

export class HttpDrain {
  /** Responses in progress (handler started, response not finished) per open connection. */
  private readonly active = new Map<net.Socket, Set<http.ServerResponse>>();
  private draining = false;
  private idleGraceOver = false;
  private drained: Promise<void> | null = null;

  constructor(
    private readonly server: http.Server,
    private readonly options: HttpDrainOptions = {},
  ) {
    server.on('connection', (socket: net.Socket) => {
      this.active.set(socket, new Set());
      socket.once('close', () => this.active.delete(socket));
    });
    // Before the server's handler: a request it refuses is tracked like any other.
    server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const socket = req.socket;
      const responses = this.active.get(socket);
      if (!responses) return;
      responses.add(res);
      if (this.draining) closeAfterLast(responses);
      res.once('close', () => {
        responses.delete(res);
        // A response that went out before the drain kept the connection alive: close it once idle.
        if (responses.size === 0 && this.idleGraceOver) this.closeIdle(socket);
      });
    });
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Call first in the request handler: during a drain, answers 503 UNAVAILABLE with
   * `Connection: close` and returns true (the request must not run); otherwise false.
   */
  refuse(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    if (!this.draining) return false;
    const text = JSON.stringify({ errors: [{ message: DRAINING_MESSAGE, extensions: { code: 'UNAVAILABLE', retryable: true } }] });
    const answer = () => {
      // `Connection: close` is already on it when it is the connection's last (closeAfterLast).
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'retry-after': '1' });
      res.end(text);
    };
    // Answer once the body is in: Node closes the connection right after a `Connection: close`
    // answer, and closing with unread bytes makes the kernel reset it, losing the answer.
    if (req.complete) answer();
    else req.once('end', answer).resume();
    return true;
  }

  /**
   * Stop taking connections and requests, let requests in flight finish, then close every
   * connection. Resolves once all are closed (busy ones are destroyed after the hard deadline).
   */
  drain(): Promise<void> {
    this.drained ??= this.run();
    return this.drained;
  }

  private async run(): Promise<void> {
    this.draining = true;
    const allClosed = new Promise<void>((resolve) => this.server.once('close', () => resolve()));
    // net's close, not http's: http's also destroys idle keep-alive connections at once, racing a
    // request a client may be sending on one. Connections are left to this drain; the server emits
    // 'close' once the last one has closed.
    net.Server.prototype.close.call(this.server);
    // Busy connections: the last response says Connection: close, and Node closes after it.
    for (const responses of this.active.values()) closeAfterLast(responses);
    const idleGrace = setTimeout(() => {
      this.idleGraceOver = true;
      for (const [socket, responses] of this.active) if (responses.size === 0) this.closeIdle(socket);
    }, this.options.idleGraceMs ?? DRAIN_IDLE_GRACE_MS);
    const hardDeadline = setTimeout(() => {
      for (const socket of this.active.keys()) socket.destroy();
    }, this.options.hardDeadlineMs ?? DRAIN_HARD_DEADLINE_MS);
    try {
      await allClosed;
    } finally {
      clearTimeout(idleGrace);
      clearTimeout(hardDeadline);
    }
  }

  /**
   * End an idle connection (the client sees the connection close, and closes its side); destroy it
   * if the client has not closed its side after another grace period.
   */
  private closeIdle(socket: net.Socket): void {
    socket.end();
    setTimeout(() => socket.destroy(), this.options.idleGraceMs ?? DRAIN_IDLE_GRACE_MS).unref();
  }
}

/** Responses this drain marked `Connection: close` (a handler's own header is never removed). */
const markedClosing = new WeakSet<http.ServerResponse>();

/**
 * Put `Connection: close` on the last response of a connection (if its headers are not out yet),
 * and on no earlier one: with pipelined requests, Node closes the connection after the first
 * response that says so, and the responses queued behind it would never be sent.
 */
function closeAfterLast(responses: ReadonlySet<http.ServerResponse>): void {
  let last: http.ServerResponse | undefined;
  for (const res of responses) last = res;
  for (const res of responses) {
    if (res.headersSent) continue;
    if (res === last) {
      res.setHeader('connection', 'close');
      markedClosing.add(res);
    } else if (markedClosing.has(res)) {
      res.removeHeader('connection');
      markedClosing.delete(res);
    }
  }
}
