// The seed's Accounting service: a double-entry ledger. A transaction is one document holding all
// its entries (debits equal credits), inserted once under its id, so the ledger is balanced after
// every write and a repeated event cannot post twice. Balances are debits minus credits per
// account; over all accounts they sum to zero.
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import { ValidationError } from '../../../platform/errors';

export interface LedgerEntry {
  readonly account: string;
  readonly debitCents: number;
  readonly creditCents: number;
}

export interface LedgerTransaction {
  readonly id: string;
  readonly orderId: string;
  readonly paymentId: string;
  readonly kind: 'capture' | 'refund';
  readonly entries: readonly LedgerEntry[];
  readonly recordedAt: string;
}

export const accounts = {
  /** Money the card processor owes us (settles to the bank). */
  processorClearing: 'assets:processor-clearing',
  revenue: 'income:sales',
  refunds: 'income:refunds',
} as const;

export function captureTransaction(paymentId: string, orderId: string, amountCents: number, at: string): LedgerTransaction {
  return balanced({
    id: `capture-${paymentId}`,
    orderId,
    paymentId,
    kind: 'capture',
    recordedAt: at,
    entries: [
      { account: accounts.processorClearing, debitCents: amountCents, creditCents: 0 },
      { account: accounts.revenue, debitCents: 0, creditCents: amountCents },
    ],
  });
}

export function refundTransaction(paymentId: string, orderId: string, amountCents: number, at: string): LedgerTransaction {
  return balanced({
    id: `refund-${paymentId}`,
    orderId,
    paymentId,
    kind: 'refund',
    recordedAt: at,
    entries: [
      { account: accounts.refunds, debitCents: amountCents, creditCents: 0 },
      { account: accounts.processorClearing, debitCents: 0, creditCents: amountCents },
    ],
  });
}

function balanced(t: LedgerTransaction): LedgerTransaction {
  const sum = t.entries.reduce((s, e) => s + e.debitCents - e.creditCents, 0);
  if (sum !== 0) throw new ValidationError(`Transaction ${t.id} is not balanced (off by ${sum}).`);
  return t;
}

export class Ledger {
  readonly transactions: DocumentCollection<LedgerTransaction>;

  constructor(documents: DocumentStore) {
    this.transactions = documents.collection<LedgerTransaction>('ledger_transactions', { indexes: ['orderId', 'recordedAt'] });
  }

  /** False when the transaction was posted before. */
  post(transaction: LedgerTransaction): Promise<boolean> {
    return this.transactions.insert(balanced(transaction));
  }

  /** Balance per account (debits minus credits), sorted by account. */
  async balances(): Promise<{ account: string; balanceCents: number }[]> {
    const totals = new Map<string, number>();
    for (const t of await this.transactions.find()) {
      for (const e of t.entries) totals.set(e.account, (totals.get(e.account) ?? 0) + e.debitCents - e.creditCents);
    }
    return [...totals.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([account, balanceCents]) => ({ account, balanceCents }));
  }
}
