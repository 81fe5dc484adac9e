// Readiness: whether the backends a process needs (MongoDB, RabbitMQ) answer right now. Each adapter
// reports its own state; `/ready` (platform/http-server.ts readyRoute) answers 503 naming the
// backends that are down, 200 when all are up.
import type { Clock } from './clock';

/** One backend's state as a process sees it (`backend` is the name an operator knows: MongoDB, RabbitMQ). */
export interface BackendHealth {
  readonly backend: string;
  readonly ok: boolean;
  /** 'ok', or why not (shown on /ready). */
  readonly detail: string;
}

export const healthy = (backend: string): BackendHealth => ({ backend, ok: true, detail: 'ok' });
export const unhealthy = (backend: string, detail: string): BackendHealth => ({ backend, ok: false, detail });

/** The body of a /ready answer: `status`, one entry per backend, and a sentence naming what is down. */
export interface ReadinessReport {
  readonly status: 'ready' | 'unavailable';
  readonly backends: Readonly<Record<string, string>>;
  /** Present when unavailable: "MongoDB: ...; RabbitMQ: ..." (what the gateway's /ready repeats). */
  readonly reason?: string;
}

export function readinessReport(states: readonly BackendHealth[]): ReadinessReport {
  const down = states.filter((s) => !s.ok);
  const backends = Object.fromEntries(states.map((s) => [s.backend, s.detail]));
  if (down.length === 0) return { status: 'ready', backends };
  return { status: 'unavailable', backends, reason: down.map((s) => `${s.backend}: ${s.detail}`).join('; ') };
}

export interface CachedHealthCheckOptions {
  readonly backend: string;
  /** Resolves when the backend answers (one cheap round trip), rejects otherwise; must settle in bounded time. */
  readonly probe: () => Promise<void>;
  readonly clock: Clock;
  /** How long an answer is reused, so that a busy /ready costs the backend one probe per period. */
  readonly cacheMs: number;
  /** Why the backend is known to be down without asking it (a client's own view), else null. */
  readonly knownDown?: () => string | null;
  /** The detail shown for a failed probe (default: the error's message). */
  readonly describe?: (error: unknown) => string;
}

/**
 * A backend's readiness from a probe run at most once per `cacheMs`, shared by concurrent callers.
 * When the client already knows the backend is down, that is answered at once (a probe to a down
 * server would only wait for its timeout), while a probe still runs in the background: asking is
 * what makes a driver look again, so the recovery shows as soon as it happens.
 */
export class CachedHealthCheck {
  private last: { readonly at: number; readonly health: BackendHealth } | null = null;
  private running: Promise<BackendHealth> | null = null;

  constructor(private readonly options: CachedHealthCheckOptions) {}

  check(): Promise<BackendHealth> {
    const down = this.options.knownDown?.() ?? null;
    const now = this.options.clock.now().getTime();
    const fresh = this.last !== null && now - this.last.at < this.options.cacheMs;
    if (fresh && down === null) return Promise.resolve(this.last!.health);
    if (!fresh) this.running ??= this.probe();
    if (down !== null) return Promise.resolve(unhealthy(this.options.backend, down));
    return this.running ?? Promise.resolve(this.last!.health);
  }

  private async probe(): Promise<BackendHealth> {
    let health: BackendHealth;
    try {
      await this.options.probe();
      health = healthy(this.options.backend);
    } catch (error) {
      const describe = this.options.describe ?? ((e: unknown) => (e instanceof Error ? e.message : String(e)));
      health = unhealthy(this.options.backend, describe(error));
    }
    this.last = { at: this.options.clock.now().getTime(), health };
    this.running = null;
    return health;
  }
}
