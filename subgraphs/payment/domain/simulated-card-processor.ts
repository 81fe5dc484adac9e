// The simulated card processor inside the product: deterministic test cards, one record per
// idempotency key in the DocumentStore (so it survives restarts and is shared by every worker),
// money moved at most once per key by atomic updates. Counters per key let tests prove it.
//
// Test cards (any future expiry, any 3-digit cvc):
//   4242 4242 4242 4242, 5555 5555 5555 4444  success
//   4000 0000 0000 0002                       declined
//   4000 0000 0000 9995                       insufficient funds
//   4000 0000 0000 0119                       transient network errors: the first authorize call
//                                             fails before reaching the processor, the second
//                                             authorises but its answer is lost, the third succeeds
//   any other valid (Luhn) number             success
import { randomUUID } from 'node:crypto';
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import { ValidationError } from '../../../platform/errors';
import { deterministicUuid } from '../../../platform/ids';
import { unsafeCharacterIn } from '../../../platform/safe-text';
import {
  TransientGatewayError,
  type AuthorizeResult,
  type CaptureResult,
  type CardInput,
  type CardToken,
  type PaymentGateway,
  type RefundResult,
} from './payment-gateway';

type Behaviour = 'success' | 'decline' | 'funds' | 'flaky';

export const testCards = {
  success: '4242424242424242',
  mastercard: '5555555555554444',
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
  networkError: '4000000000000119',
} as const;

const behaviourOf: Record<string, Behaviour> = {
  [testCards.declined]: 'decline',
  [testCards.insufficientFunds]: 'funds',
  [testCards.networkError]: 'flaky',
};

export interface ProcessorRecord {
  /** The idempotency key. */
  readonly id: string;
  readonly status: 'pending' | 'authorized' | 'captured' | 'declined' | 'refunded' | 'cancelled';
  readonly amountCents: number;
  readonly authorizationId: string | null;
  readonly chargeId: string | null;
  readonly refundId: string | null;
  readonly refundedCents: number;
  readonly declineReason: 'card_declined' | 'insufficient_funds' | null;
  /** Calls of authorize with this key (the flaky card fails by count). */
  readonly authorizeCalls: number;
  /** Times money was actually taken / given back with this key: never above 1. */
  readonly captures: number;
  readonly refunds: number;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function brandOf(digits: string): string {
  if (digits.startsWith('4')) return 'visa';
  if (/^5[1-5]/.test(digits)) return 'mastercard';
  if (/^3[47]/.test(digits)) return 'amex';
  return 'card';
}

export class SimulatedCardProcessor implements PaymentGateway {
  readonly records: DocumentCollection<ProcessorRecord>;

  constructor(documents: DocumentStore) {
    this.records = documents.collection<ProcessorRecord>('card_processor_payments');
  }

  async tokenize(card: CardInput, now: Date): Promise<CardToken> {
    const digits = card.number.replace(/[\s-]/g, '');
    if (!/^\d{12,19}$/.test(digits) || !luhn(digits)) {
      throw new ValidationError('card.number is not a valid card number (12 to 19 digits passing the Luhn check).', { field: 'card.number' });
    }
    if (!Number.isInteger(card.expMonth) || card.expMonth < 1 || card.expMonth > 12) {
      throw new ValidationError('card.expMonth must be 1 to 12.', { field: 'card.expMonth' });
    }
    if (!Number.isInteger(card.expYear) || card.expYear < 2000 || card.expYear > 2100) {
      throw new ValidationError('card.expYear must be a four-digit year.', { field: 'card.expYear' });
    }
    const endOfExpiry = Date.UTC(card.expYear, card.expMonth, 1);
    if (endOfExpiry <= now.getTime()) throw new ValidationError('The card has expired.', { field: 'card.expYear' });
    if (!/^\d{3,4}$/.test(card.cvc)) throw new ValidationError('card.cvc must be 3 or 4 digits.', { field: 'card.cvc' });
    if (card.holderName !== undefined && card.holderName !== null) {
      const holder = card.holderName.trim();
      if (holder === '' || holder.length > 100) throw new ValidationError('card.holderName must be 1 to 100 characters (omit it rather than send it blank).', { field: 'card.holderName' });
      const unsafe = unsafeCharacterIn(holder);
      if (unsafe) throw new ValidationError(`card.holderName may not contain ${unsafe}.`, { field: 'card.holderName' });
    }
    const behaviour = behaviourOf[digits] ?? 'success';
    return { token: `tok_sim_${behaviour}_${randomUUID().replace(/-/g, '').slice(0, 16)}`, brand: brandOf(digits), last4: digits.slice(-4) };
  }

  async authorize(request: { idempotencyKey: string; amountCents: number; currency: string; cardToken: string }): Promise<AuthorizeResult> {
    const behaviour = (/^tok_sim_(success|decline|funds|flaky)_/.exec(request.cardToken)?.[1] as Behaviour | undefined) ?? 'decline';
    const key = request.idempotencyKey;
    // Count the call first: the flaky card's failures depend on it, and it is durable across restarts.
    const counted = await this.records.update(key, (current) =>
      current ? { ...current, authorizeCalls: current.authorizeCalls + 1 } : { ...fresh(key, request.amountCents), authorizeCalls: 1 },
    );
    const calls = counted?.authorizeCalls ?? 1;
    if (behaviour === 'flaky' && calls === 1) throw new TransientGatewayError('card processor unreachable (simulated network error)');
    const record = await this.records.update(key, (current) => {
      const base = current ?? fresh(key, request.amountCents);
      if (base.status !== 'pending') return null; // decided before: same answer
      if (behaviour === 'decline') return { ...base, status: 'declined', declineReason: 'card_declined' };
      if (behaviour === 'funds') return { ...base, status: 'declined', declineReason: 'insufficient_funds' };
      return { ...base, status: 'authorized', authorizationId: `auth_${deterministicUuid(`auth:${key}`).slice(0, 18)}` };
    });
    if (behaviour === 'flaky' && calls === 2) throw new TransientGatewayError('card processor answer lost (simulated network error)');
    return answerOf(record);
  }

  async capture(request: { idempotencyKey: string; authorizationId: string }): Promise<CaptureResult> {
    const record = await this.records.update(request.idempotencyKey, (current) => {
      if (!current || current.status !== 'authorized' || current.authorizationId !== request.authorizationId) return null;
      return { ...current, status: 'captured', chargeId: `ch_${deterministicUuid(`charge:${current.id}`).slice(0, 18)}`, captures: current.captures + 1 };
    });
    if (!record) return { ok: false, reason: 'cancelled', message: 'No authorisation to capture for this payment.' };
    if (record.status === 'captured' || record.status === 'refunded') {
      return { ok: true, chargeId: record.chargeId ?? '', amountCents: record.amountCents };
    }
    const answer = answerOf(record);
    return answer.ok ? { ok: false, reason: 'cancelled', message: 'The authorisation was not captured.' } : answer;
  }

  async refund(request: { idempotencyKey: string; reason: string }): Promise<RefundResult> {
    const key = request.idempotencyKey;
    const refundId = `re_${deterministicUuid(`refund:${key}`).slice(0, 18)}`;
    const record = await this.records.update(key, (current) => {
      const base = current ?? fresh(key, 0);
      if (base.refundId !== null) return null; // refunded or cancelled before: same answer
      if (base.status === 'captured') {
        return { ...base, status: 'refunded', refundId, refundedCents: base.amountCents, refunds: base.refunds + 1 };
      }
      // Nothing captured (never seen, only authorised, declined): cancel the key for good.
      return { ...base, status: base.status === 'declined' ? 'declined' : 'cancelled', refundId, refundedCents: 0 };
    });
    return { refundId: record?.refundId ?? refundId, amountCents: record?.refundedCents ?? 0 };
  }
}

function fresh(id: string, amountCents: number): ProcessorRecord {
  return {
    id,
    status: 'pending',
    amountCents,
    authorizationId: null,
    chargeId: null,
    refundId: null,
    refundedCents: 0,
    declineReason: null,
    authorizeCalls: 0,
    captures: 0,
    refunds: 0,
  };
}

function answerOf(record: ProcessorRecord | null): AuthorizeResult {
  if (!record) return { ok: false, reason: 'cancelled', message: 'The payment was cancelled.' };
  if (record.status === 'declined') {
    const reason = record.declineReason ?? 'card_declined';
    return { ok: false, reason, message: reason === 'insufficient_funds' ? 'Insufficient funds on the card.' : 'The card was declined.' };
  }
  if (record.status === 'cancelled' || record.status === 'pending' || record.authorizationId === null) {
    return { ok: false, reason: 'cancelled', message: 'The payment was cancelled before it was authorised.' };
  }
  return { ok: true, authorizationId: record.authorizationId };
}
