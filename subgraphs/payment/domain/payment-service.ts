// The seed's Payment Service: turns payment.initiated into a charge through the gateway port
// (authorise, then capture) and payment.refund into a refund. The gateway's idempotency key is the
// payment id, and every event appended has an id derived from the payment id, so running a step
// again (redelivery, crash, a second refund command) never charges, refunds or announces twice.
import pRetry, { AbortError } from 'p-retry';
import type { CausationContext, EventEnvelope } from '../../../messaging/events/envelope';
import type { AnyNewEvent } from '../../../messaging/events/envelope';
import type { EventStore } from '../../../messaging/store/event-store';
import type { DocumentCollection } from '../../../messaging/state/document-store';
import type { Clock } from '../../../platform/clock';
import { DomainError } from '../../../platform/errors';
import { deterministicUuid } from '../../../platform/ids';
import { TransientGatewayError, type PaymentGateway } from './payment-gateway';
import { advancePaymentView, type PaymentView } from './read-models';

export interface RetryPolicy {
  /** Calls in all, the first included. */
  readonly attempts: number;
  /** Wait before the first retry; each later one waits twice as long (0 in tests: no waiting). */
  readonly initialDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 4, initialDelayMs: 25 };

/** Retry transient gateway errors with exponential backoff; other errors pass through. */
export function withBackoff<T>(policy: RetryPolicy, call: () => Promise<T>): Promise<T> {
  return pRetry(
    async (attempt) => {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof TransientGatewayError)) throw new AbortError(error instanceof Error ? error : String(error));
        if (attempt >= policy.attempts) {
          // The bus retries the whole step later (same idempotency key, so still one charge).
          throw new AbortError(new DomainError('UNAVAILABLE', `Payment gateway unavailable after ${attempt} attempts: ${error.message}`));
        }
        throw error;
      }
    },
    { retries: Math.max(0, policy.attempts - 1), factor: 2, minTimeout: policy.initialDelayMs, maxTimeout: Infinity, randomize: false },
  );
}

export function paymentStreamId(paymentId: string): string {
  return `payment-${paymentId}`;
}

export class PaymentService {
  constructor(
    private readonly gateway: PaymentGateway,
    private readonly store: EventStore,
    private readonly payments: DocumentCollection<PaymentView>,
    private readonly clock: Clock,
    private readonly retry: RetryPolicy = defaultRetryPolicy,
  ) {}

  async process(event: EventEnvelope<'payment.initiated'>): Promise<void> {
    const p = event.payload;
    const context = causedBy(event);
    const auth = await withBackoff(this.retry, () =>
      this.gateway.authorize({ idempotencyKey: p.paymentId, amountCents: p.amountCents, currency: p.currency, cardToken: p.card.token }),
    );
    if (!auth.ok) {
      await this.record(p.paymentId, [{ type: 'payment.failed', payload: { paymentId: p.paymentId, orderId: p.orderId, memberId: p.memberId, reason: auth.reason, message: auth.message } }], context);
      await this.view(p.paymentId, { status: 'failed', failureReason: auth.reason });
      return;
    }
    await this.record(
      p.paymentId,
      [{ type: 'payment.authorized', payload: { paymentId: p.paymentId, orderId: p.orderId, memberId: p.memberId, amountCents: p.amountCents, authorizationId: auth.authorizationId } }],
      context,
    );
    await this.view(p.paymentId, { status: 'authorized' });
    const capture = await withBackoff(this.retry, () => this.gateway.capture({ idempotencyKey: p.paymentId, authorizationId: auth.authorizationId }));
    if (!capture.ok) {
      await this.record(p.paymentId, [{ type: 'payment.failed', payload: { paymentId: p.paymentId, orderId: p.orderId, memberId: p.memberId, reason: capture.reason, message: capture.message } }], context);
      await this.view(p.paymentId, { status: 'failed', failureReason: capture.reason });
      return;
    }
    await this.record(
      p.paymentId,
      [{ type: 'payment.completed', payload: { paymentId: p.paymentId, orderId: p.orderId, memberId: p.memberId, amountCents: capture.amountCents, currency: p.currency, chargeId: capture.chargeId } }],
      context,
    );
    await this.view(p.paymentId, { status: 'completed' });
  }

  async refund(event: EventEnvelope<'payment.refund'>): Promise<void> {
    const p = event.payload;
    const refund = await withBackoff(this.retry, () => this.gateway.refund({ idempotencyKey: p.paymentId, reason: p.reason }));
    await this.record(
      p.paymentId,
      [{ type: 'payment.refunded', payload: { paymentId: p.paymentId, orderId: p.orderId, memberId: p.memberId, amountCents: refund.amountCents, currency: 'EUR', refundId: refund.refundId } }],
      causedBy(event),
    );
    await this.view(p.paymentId, { status: 'refunded', refundedCents: refund.amountCents });
  }

  /** One event per (payment, type), ever: its id is derived from both. */
  private async record(paymentId: string, events: AnyNewEvent[], context: CausationContext): Promise<void> {
    await this.store.append(
      paymentStreamId(paymentId),
      events.map((e) => ({ ...e, id: deterministicUuid(`${e.type}:${paymentId}`) })),
      { expectedVersion: 'any', context },
    );
  }

  private view(paymentId: string, change: Omit<Parameters<typeof advancePaymentView>[2], 'updatedAt'>): Promise<void> {
    return advancePaymentView(this.payments, paymentId, { ...change, updatedAt: this.clock.now().toISOString() });
  }
}

export function causedBy(event: { id: string; correlationId: string }, actor = 'payment-service'): CausationContext {
  return { correlationId: event.correlationId, causationId: event.id, actor: { id: actor, role: 'system' } };
}
