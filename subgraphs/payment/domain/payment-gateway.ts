// The payment gateway port: what the payment service needs from a card processor. The product
// ships a simulated processor (simulated-card-processor.ts); a real provider is another adapter.
// Every money-moving call carries an idempotency key: the same key never moves money twice.

export interface CardInput {
  readonly number: string;
  readonly expMonth: number;
  readonly expYear: number;
  readonly cvc: string;
  readonly holderName?: string | null;
}

/** What the product keeps of a card: an opaque token the gateway understands, brand and last 4. */
export interface CardToken {
  readonly token: string;
  readonly brand: string;
  readonly last4: string;
}

export type DeclineReason = 'card_declined' | 'insufficient_funds' | 'cancelled';

export type AuthorizeResult =
  | { readonly ok: true; readonly authorizationId: string }
  | { readonly ok: false; readonly reason: DeclineReason; readonly message: string };

export type CaptureResult =
  | { readonly ok: true; readonly chargeId: string; readonly amountCents: number }
  | { readonly ok: false; readonly reason: DeclineReason; readonly message: string };

export interface RefundResult {
  readonly refundId: string;
  /** 0 when nothing had been captured: the payment is then cancelled for good. */
  readonly amountCents: number;
}

/** The processor did not answer (network, timeout): safe to retry with the same idempotency key. */
export class TransientGatewayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientGatewayError';
  }
}

export interface PaymentGateway {
  /** Validate card data and turn it into a token; throws ValidationError naming the field. */
  tokenize(card: CardInput, now: Date): Promise<CardToken>;
  /** Hold `amountCents` on the card. Idempotent per key. */
  authorize(request: { idempotencyKey: string; amountCents: number; currency: string; cardToken: string }): Promise<AuthorizeResult>;
  /** Take the held amount. Idempotent per key; refused once the key was refunded/cancelled. */
  capture(request: { idempotencyKey: string; authorizationId: string }): Promise<CaptureResult>;
  /**
   * Give back what the key captured, or cancel it when nothing was captured yet (a later
   * authorize or capture with the key is then refused). Idempotent: one refund per key, ever.
   */
  refund(request: { idempotencyKey: string; reason: string }): Promise<RefundResult>;
}
