// A TCP proxy in front of RabbitMQ that a test controls: it can sever every connection and refuse
// reconnects, to stage a lost broker without touching the broker itself.
import net from 'node:net';

const brokerUrl = new URL(process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672');

/** A TCP proxy to the broker that can sever every connection and refuse the next reconnects. */
export class SeverableProxy {
  private readonly server = net.createServer((client) => this.accept(client));
  private readonly sockets = new Set<net.Socket>();
  /** Broker-to-client pipes: held (nothing forwarded, the sockets kept open) while `holding`. */
  private readonly downstream = new Map<net.Socket, net.Socket>();
  private holding = false;
  /** Client-to-broker pipes: stalled too while `stalled`. */
  private readonly upstreamOf = new Map<net.Socket, net.Socket>();
  private stalled = false;
  private refuseNext = 0;
  accepted = 0;
  refused = 0;
  cuts = 0;

  /** `target`: the broker's URL (default RABBITMQ_URL, else the local broker). */
  constructor(private readonly target: URL = brokerUrl) {}

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Sever every open connection; refuse the next `refuse` connection attempts, then accept again. */
  cut(refuse = 1): void {
    this.cuts++;
    this.refuseNext = refuse;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /**
   * Stop forwarding what the broker sends (its confirms, deliveries, heartbeats) while keeping every
   * connection open: a broker that has the publishes and never answers.
   */
  hold(): void {
    this.holding = true;
    for (const [upstream, client] of this.downstream) {
      upstream.unpipe(client);
      upstream.pause();
    }
  }

  /**
   * Stop forwarding in both directions while keeping every connection open: what the client sends
   * (its publishes) never reaches the broker, and is lost if the connection is cut meanwhile.
   */
  stall(): void {
    this.hold();
    this.stalled = true;
    for (const [client, upstream] of this.upstreamOf) {
      client.unpipe(upstream);
      client.pause();
    }
  }

  /** Forward again what was held (or stalled), and what comes next. */
  release(): void {
    if (this.stalled) {
      this.stalled = false;
      for (const [client, upstream] of this.upstreamOf) client.pipe(upstream);
    }
    if (!this.holding) return;
    this.holding = false;
    for (const [upstream, client] of this.downstream) upstream.pipe(client);
  }

  /** Accept connections again (after a cut that refused many). */
  restore(): void {
    this.refuseNext = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.refuseNext > 0) {
      this.refuseNext--;
      this.refused++;
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = net.connect({ host: this.target.hostname, port: Number(this.target.port || 5672) });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(a);
      if ((a === upstream && this.holding) || (a === client && this.stalled)) a.pause();
      else a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        this.downstream.delete(a);
        this.upstreamOf.delete(a);
        b.destroy();
      });
    }
    this.downstream.set(upstream, client);
    this.upstreamOf.set(client, upstream);
  }
}

