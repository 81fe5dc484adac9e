// The graceful drain every server closes with (platform/http-drain.ts): a request in flight is
// answered, one arriving on an open keep-alive connection is refused with 503 UNAVAILABLE before its
// handler runs, new connections are refused; under load no request runs and then loses its answer.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import pino from 'pino';
import { Pool } from 'undici';
import { routedServer, sendJson, type RoutedServer } from '../../platform/http-server';

const logger = pino({ level: 'silent' });

interface Recorder {
  readonly executed: Set<string>;
  /** Resolves the next time `count` requests have been answered in total. */
  answered(count: number): Promise<void>;
}

/** A server whose /work "executes" the request id in its body after a few turns of the event loop. */
async function serve(options: { idleGraceMs?: number; hardDeadlineMs?: number; hold?: Promise<void> } = {}): Promise<{ server: RoutedServer; port: number; recorder: Recorder }> {
  const executed = new Set<string>();
  let answeredCount = 0;
  const waiting: { count: number; resolve: () => void }[] = [];
  const server = routedServer(
    {
      '/work': {
        methods: ['POST'],
        handle: async (req, res) => {
          let text = '';
          for await (const chunk of req) text += String(chunk);
          const { id } = JSON.parse(text) as { id: string };
          if (options.hold) await options.hold;
          for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
          executed.add(id);
          for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
          sendJson(res, 200, { id });
          answeredCount++;
          for (const w of waiting.filter((w) => answeredCount >= w.count)) {
            waiting.splice(waiting.indexOf(w), 1);
            w.resolve();
          }
        },
      },
    },
    logger,
    { idleGraceMs: options.idleGraceMs ?? 200, ...(options.hardDeadlineMs ? { hardDeadlineMs: options.hardDeadlineMs } : {}) },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    recorder: {
      executed,
      answered: (count) => (answeredCount >= count ? Promise.resolve() : new Promise((resolve) => waiting.push({ count, resolve }))),
    },
  };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  reusedSocket: boolean;
}

function post(port: number, agent: http.Agent, id: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/work', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, reusedSocket: req.reusedSocket }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
    req.end(JSON.stringify({ id }));
  });
}

describe('HTTP drain', () => {
  it('answers a request in flight with Connection: close, then closes', async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const { server, port, recorder } = await serve({ hold });
    const agent = new http.Agent({ keepAlive: true });
    const reply = post(port, agent, 'in-flight');
    // The request is in its handler once the server has a connection with a request on it.
    await new Promise<void>((resolve) => server.once('request', () => resolve()));
    const drained = server.drain();
    release();
    const answer = await reply;
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(recorder.executed.has('in-flight')).toBe(true);
    await drained;
    agent.destroy();
  });

  it('answers pipelined requests in flight, closing only after the last', async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const { server, port, recorder } = await serve({ hold });
    let requests = 0;
    const bothIn = new Promise<void>((resolve) => server.on('request', () => ++requests === 2 && resolve()));
    const socket = net.connect({ port, host: '127.0.0.1' });
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const request = (id: string) => {
      const body = JSON.stringify({ id });
      return `POST /work HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    };
    socket.write(request('first') + request('second'));
    await bothIn;
    const drained = server.drain();
    release();
    await Promise.all([drained, closed]);
    const answers = received.split(/(?=HTTP\/1\.1 )/);
    expect(answers.map((a) => a.slice(0, 12))).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
    expect(answers[0]).not.toMatch(/connection: close/i);
    expect(answers[1]).toMatch(/connection: close/i);
    expect([...recorder.executed].sort()).toEqual(['first', 'second']);
  });

  it('refuses a request on an open keep-alive connection with 503 UNAVAILABLE, without running it', async () => {
    const { server, port, recorder } = await serve({ idleGraceMs: 10_000 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await post(port, agent, 'before')).status).toBe(200);
    const drained = server.drain();
    const refused = await post(port, agent, 'during');
    expect(refused.reusedSocket).toBe(true);
    expect(refused.status).toBe(503);
    expect(refused.headers.connection).toBe('close');
    expect(JSON.parse(refused.body)).toEqual({ errors: [{ message: expect.stringMatching(/did not run this request/), extensions: { code: 'UNAVAILABLE', retryable: true } }] });
    expect(recorder.executed.has('during')).toBe(false);
    // The refused connection closed after its answer: nothing holds the drain (despite the long grace).
    await drained;
    await expect(post(port, agent, 'after')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    agent.destroy();
  });

  it('closes connections that stay idle once the grace is over', async () => {
    const { server, port } = await serve({ idleGraceMs: 50 });
    const agent = new http.Agent({ keepAlive: true });
    expect((await post(port, agent, 'one')).status).toBe(200);
    const closed = new Promise<void>((resolve) => {
      const socket = Object.values(agent.freeSockets).flat()[0];
      socket?.once('close', () => resolve());
    });
    await server.drain();
    await closed;
    agent.destroy();
  });

  it('does not wait on a client that keeps its side of an idle connection open', async () => {
    // The hard deadline (for busy connections) is out of reach here: only the idle path may close it.
    const { server, port } = await serve({ idleGraceMs: 50, hardDeadlineMs: 600_000 });
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const body = JSON.stringify({ id: 'half-open' });
    const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write(`POST /work HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    await answered;
    const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
    // Resolves although the client never ends its side: the server ends, then destroys, the connection.
    await server.drain();
    await ended;
    socket.destroy();
  });

  describe('under load over keep-alive connections', () => {
    const CLIENTS = 32;

    /** Runs CLIENTS loops of requests until the listener refuses them; drains after `drainAfter` answers. */
    async function loadAndDrain(send: (id: string) => Promise<Reply>, recorder: Recorder, server: RoutedServer, drainAfter: number) {
      const outcomes: { id: string; reply: Reply | null; error: (NodeJS.ErrnoException & { reusedSocket?: boolean }) | null; sentWhileDraining: boolean }[] = [];
      let draining = false;
      let n = 0;
      const client = async () => {
        for (;;) {
          const id = `r${++n}`;
          const sentWhileDraining = draining;
          try {
            outcomes.push({ id, reply: await send(id), error: null, sentWhileDraining });
          } catch (error) {
            const e = error as NodeJS.ErrnoException;
            outcomes.push({ id, reply: null, error: e, sentWhileDraining });
            if (e.code === 'ECONNREFUSED') return;
          }
        }
      };
      const clients = Array.from({ length: CLIENTS }, client);
      await recorder.answered(drainAfter);
      draining = true;
      await server.drain();
      await Promise.all(clients);
      return outcomes;
    }

    function assertNothingLost(outcomes: Awaited<ReturnType<typeof loadAndDrain>>, executed: Set<string>) {
      const executedUnanswered = outcomes.filter((o) => o.reply === null && executed.has(o.id));
      expect(executedUnanswered).toEqual([]);
      for (const o of outcomes.filter((o) => o.reply?.status === 200)) expect(executed.has(o.id)).toBe(true);
      const refused = outcomes.filter((o) => o.reply?.status === 503);
      for (const o of refused) expect(executed.has(o.id)).toBe(false);
      // The drain happened under load: requests were refused with an answer, not only by the listener.
      expect(refused.length).toBeGreaterThan(0);
      expect(outcomes.filter((o) => o.sentWhileDraining).length).toBeGreaterThan(0);
    }

    it("with Node's agent: nothing executed loses its answer, and no reused connection is reset", async () => {
      const { server, port, recorder } = await serve();
      const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
      const outcomes = await loadAndDrain((id) => post(port, agent, id), recorder, server, 300);
      assertNothingLost(outcomes, recorder.executed);
      // A connection reset can only hit a connection being opened as the listener closes.
      expect(outcomes.filter((o) => o.error && o.error.reusedSocket)).toEqual([]);
      agent.destroy();
    });

    it("with undici's pool (the gateway's client): nothing executed loses its answer", async () => {
      const { server, port, recorder } = await serve();
      const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CLIENTS });
      const send = async (id: string): Promise<Reply> => {
        const r = await pool.request({ path: '/work', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
        return { status: r.statusCode, headers: r.headers as http.IncomingHttpHeaders, body: await r.body.text(), reusedSocket: false };
      };
      const outcomes = await loadAndDrain(send, recorder, server, 300);
      assertNothingLost(outcomes, recorder.executed);
      await pool.close();
    });
  });
});
