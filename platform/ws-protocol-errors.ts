// graphql-ws's `ws` adapter reports every error of a socket with console.error as an internal one
// and closes it with 1011. ws's own protocol errors (a message over maxPayload: 1009; a bad frame:
// 1002) are the client's, and ws has already closed the socket with their code: log them quietly
// instead. Call after useServer(), so its error listener is there to take over.
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from './logger';

export function quietProtocolErrors(wss: WebSocketServer, logger: Logger): void {
  wss.on('connection', (socket: WebSocket) => {
    const theirs = socket.listeners('error') as ((error: Error) => void)[];
    socket.removeAllListeners('error');
    socket.on('error', (error: Error & { code?: unknown }) => {
      if (typeof error.code === 'string' && error.code.startsWith('WS_ERR_')) {
        logger.info({ code: error.code, reason: error.message }, 'closed a WebSocket that broke the protocol');
        return;
      }
      for (const listener of theirs) listener.call(socket, error);
    });
  });
}
