// The durable expiry scheduler: on each tick it scans its due index for certifications whose
// expiring-soon window or expiry date has come (by the injected clock) and runs the transition.
// No in-memory timers hold state, so whatever came due while it was down is found at the next
// tick; several instances are safe: the append's expected version lets only one of them win.
import { randomUUID } from 'node:crypto';
import type { DocumentCollection } from '../../../messaging/state/document-store';
import { cursorOf } from '../../../messaging/state/document-store';
import type { CausationContext } from '../../../messaging/events/envelope';
import type { Clock } from '../../../platform/clock';
import { ConcurrencyError, IllegalStateError } from '../../../platform/errors';
import { FailureStreak } from '../../../platform/failure-streak';
import type { Logger } from '../../../platform/logger';
import { expiringSoonAt, requireCertificationType } from '../domain/certification';
import type { CertificationService } from '../domain/certification-service';
import type { DueDoc } from './expiry-due-index';

export interface TickResult {
  readonly expiringSoon: number;
  readonly expired: number;
  /** Transitions another instance (or a concurrent command) made first: CONFLICT on append. */
  readonly lostRaces: number;
  /** Due by the index but not by the aggregate (renewed, suspended, index behind): left alone. */
  readonly skipped: number;
  readonly failures: number;
}

export interface ExpirySchedulerOptions {
  readonly service: CertificationService;
  readonly due: DocumentCollection<DueDoc>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Time between the end of one tick and the start of the next (real time, not the clock). */
  readonly intervalMs: number;
  readonly batchSize?: number;
}

const ACTOR = { id: 'certification-expiry-scheduler', role: 'system' } as const;

export class CertificationExpiryScheduler {
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<unknown> | null = null;
  private readonly batchSize: number;
  /** Ticks, and transitions within them, failing: each logged once when it starts and once when it ends. */
  private readonly ticks: FailureStreak;
  private readonly transitions: FailureStreak;

  constructor(private readonly options: ExpirySchedulerOptions) {
    this.batchSize = options.batchSize ?? 200;
    this.ticks = new FailureStreak(options.logger, 'certification expiry tick', options.clock);
    this.transitions = new FailureStreak(options.logger, 'certification expiry transitions', options.clock);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current;
  }

  /** One scan: emit every transition due at the clock's now. Safe to call concurrently with others. */
  async tick(): Promise<TickResult> {
    const now = this.options.clock.now();
    const result = { expiringSoon: 0, expired: 0, lostRaces: 0, skipped: 0, failures: 0 };
    for (const kind of ['expiring_soon', 'expired'] as const) {
      for await (const doc of this.dueDocs(kind, now)) await this.advance(doc.id, now, result);
    }
    if (result.expiringSoon + result.expired + result.lostRaces + result.failures > 0) {
      this.options.logger.info({ ...result, at: now.toISOString() }, 'certification expiry tick');
    }
    return result;
  }

  /** Due documents of one kind, earliest first, up to `now` (paged so memory stays bounded). */
  private async *dueDocs(kind: 'expiring_soon' | 'expired', now: Date): AsyncGenerator<DueDoc> {
    let after: ReturnType<typeof cursorOf> | undefined;
    for (;;) {
      const page = await this.options.due.find({
        where: { dueKind: kind },
        orderBy: { field: 'dueAt' },
        limit: this.batchSize,
        ...(after ? { after } : {}),
      });
      for (const doc of page) {
        if (doc.dueAt === null) continue;
        if (new Date(doc.dueAt).getTime() > now.getTime()) return;
        yield doc;
      }
      const last = page[page.length - 1];
      if (!last || page.length < this.batchSize) return;
      after = cursorOf(last, 'dueAt');
    }
  }

  /**
   * Move one certification as far as the clock says, deciding on the aggregate (not the index):
   * an Active one long past its expiry gets expiring_soon and then expired in the same tick.
   */
  private async advance(id: string, now: Date, result: { -readonly [K in keyof TickResult]: number }): Promise<void> {
    for (let step = 0; step < 2; step++) {
      const current = await this.options.service.get(id);
      if (!current) return;
      const { status, expiryDate, certType } = current.certification;
      if (expiryDate === null) return;
      let kind: 'markExpiringSoon' | 'expire';
      if (status === 'Active' && now >= new Date(expiringSoonAt(expiryDate, requireCertificationType(certType)))) kind = 'markExpiringSoon';
      else if (status === 'Expiring' && now >= new Date(expiryDate)) kind = 'expire';
      else {
        if (step === 0) result.skipped++;
        return;
      }
      const context: CausationContext = { correlationId: randomUUID(), causationId: null, actor: ACTOR };
      try {
        await this.options.service.schedule(id, kind, context, current.version);
      } catch (error) {
        if (error instanceof ConcurrencyError) {
          // Someone else (another instance, or a command) changed it first: their event stands.
          result.lostRaces++;
          return;
        }
        if (error instanceof IllegalStateError) {
          result.skipped++;
          return;
        }
        result.failures++;
        this.transitions.failed(error, { certificationId: id, kind });
        return;
      }
      if (kind === 'markExpiringSoon') result.expiringSoon++;
      else result.expired++;
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.current = this.tick()
        .then(
          (result) => {
            this.ticks.succeeded();
            if (result.failures === 0) this.transitions.succeeded();
          },
          (error: unknown) => this.ticks.failed(error),
        )
        .finally(() => this.schedule(this.options.intervalMs));
    }, delayMs);
  }
}
