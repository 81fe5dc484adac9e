// A lease in the DocumentStore: at most one holder at a time for work that must run once per
// deployment however many worker processes run (the outbox relay). The holder renews it well before
// it expires; another process takes it over only after it has expired, so a crashed holder is replaced
// within one time-to-live. Taking over is an atomic update (compare and set), so two contenders never
// both win the same term. A paused holder (a long GC, a frozen VM) may briefly overlap its successor:
// the work it guards must tolerate that (the relay does: consumers are idempotent).
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Clock } from '../../platform/clock';
import { FailureStreak } from '../../platform/failure-streak';
import type { Logger } from '../../platform/logger';
import { WakeableDelay } from '../../platform/wakeable-delay';
import type { DocumentCollection, DocumentStore } from './document-store';

export interface LeaseDoc {
  /** What the lease guards, e.g. `outbox-relay`. */
  readonly id: string;
  readonly owner: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

export const LEASES_COLLECTION = 'leases';

/** A lease's time to live: another process takes the work over this long after its holder stopped renewing. */
export const LEASE_TTL_MS = 15_000;
/** How often a holder renews its lease (and a standby tries to take it): a third of the TTL. */
export const LEASE_RENEW_MS = 5_000;

/** An owner name unique to this process and lease holder: host, pid and a random part. */
export function leaseOwnerId(): string {
  return `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

export function leases(documents: DocumentStore): DocumentCollection<LeaseDoc> {
  return documents.collection<LeaseDoc>(LEASES_COLLECTION);
}

export class Lease {
  private readonly collection: DocumentCollection<LeaseDoc>;

  constructor(
    documents: DocumentStore,
    readonly name: string,
    readonly owner: string,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {
    this.collection = leases(documents);
  }

  /** Take the lease if it is free or expired, or renew it if held: true when this owner holds it now. */
  async acquire(): Promise<boolean> {
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.ttlMs).toISOString();
    const stored = await this.collection.update(this.name, (current) => {
      if (current && current.owner !== this.owner && Date.parse(current.expiresAt) > now.getTime()) return null;
      const acquiredAt = current?.owner === this.owner ? current.acquiredAt : now.toISOString();
      return { id: this.name, owner: this.owner, acquiredAt, expiresAt };
    });
    return stored?.owner === this.owner && stored.expiresAt === expiresAt;
  }

  /** Give the lease up (if held), so a successor need not wait for it to expire. */
  async release(): Promise<void> {
    await this.collection.update(this.name, (current) =>
      current?.owner === this.owner ? { ...current, expiresAt: new Date(0).toISOString() } : null,
    );
  }
}

export interface LeasedWork {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface LeasedRunnerOptions {
  /** How often the lease is renewed (holder) or tried (standby). A third of the TTL or less. */
  readonly renewEveryMs: number;
  readonly logger: Logger;
}

/**
 * Runs `work` while this process holds `lease`: renews it on a timer, starts the work on winning it,
 * stops the work on losing it (a renewal that failed or found another owner).
 */
export class LeasedRunner {
  private active = false;
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly delay = new WakeableDelay();
  private stepping: Promise<void> = Promise.resolve();
  private streak: FailureStreak | null = null;

  constructor(
    private readonly lease: Lease,
    private readonly work: LeasedWork,
    private readonly options: LeasedRunnerOptions,
  ) {}

  /** Whether the work runs in this process (the lease is held). */
  get isActive(): boolean {
    return this.active;
  }

  /** Try the lease once, then keep renewing (or trying) it. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.check();
    this.loop = (async () => {
      while (this.running) {
        await this.delay.sleep(this.options.renewEveryMs);
        if (this.running) await this.check();
      }
    })();
  }

  /** One renewal (or attempt); what the timer runs. Tests call it after moving the clock. */
  check(): Promise<void> {
    this.stepping = this.stepping.then(() => this.step());
    return this.stepping;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.delay.wake();
    await this.loop;
    this.loop = null;
    await this.stepping;
    if (this.active) {
      this.active = false;
      await this.work.stop();
      await this.lease.release().catch((error: unknown) => this.options.logger.warn({ err: error, lease: this.lease.name }, 'could not release the lease'));
    }
  }

  private async step(): Promise<void> {
    if (!this.running) return;
    let held: boolean;
    try {
      held = await this.lease.acquire();
      this.streak?.succeeded({ lease: this.lease.name });
    } catch (error) {
      // Unknown: keep the current state; the holder's lease outlives a few failed renewals.
      this.streak ??= new FailureStreak(this.options.logger, `renewal of lease ${this.lease.name}`);
      this.streak.failed(error, { lease: this.lease.name });
      return;
    }
    if (held && !this.active) {
      this.active = true;
      this.options.logger.info({ lease: this.lease.name, owner: this.lease.owner }, 'lease acquired: starting');
      await this.work.start();
    } else if (!held && this.active) {
      this.active = false;
      this.options.logger.warn({ lease: this.lease.name, owner: this.lease.owner }, 'lease lost to another process: stopping');
      await this.work.stop();
    }
  }
}
