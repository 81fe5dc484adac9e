// The seed's Inventory Service: stock per sku, one document each, changed only by atomic updates
// that check availability, so concurrent orders never oversell. Each sku records the quantity it
// holds per order, which makes reserving and releasing idempotent per (sku, order); a reservation
// record per order gives the outcome once decided and a release tombstone that refuses any later
// reservation of a cancelled order.
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import type { Clock } from '../../../platform/clock';
import { NotFoundError, ValidationError } from '../../../platform/errors';
import { productCatalog, initialStock } from './product-catalog';

/** The most of one sku on sale at once: a bound on what an admin may set (and on the sums built on it). */
export const MAX_STOCK = 1_000_000;

/** The stream of an order's reservation outcomes (inventory.reserved / failed / released). */
export function inventoryStreamId(orderId: string): string {
  return `inventory-${orderId}`;
}

export interface StockLine {
  readonly sku: string;
  readonly quantity: number;
}

export interface StockDoc {
  /** The sku. */
  readonly id: string;
  readonly available: number;
  /** Quantity held per order id (until the order completes or is released). */
  readonly holds: Readonly<Record<string, number>>;
  readonly updatedAt: string;
}

export interface ReservationDoc {
  /** The order id. */
  readonly id: string;
  readonly status: 'reserved' | 'failed' | 'released';
  readonly failedSku: string | null;
  readonly updatedAt: string;
}

export type ReserveOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: 'out_of_stock' | 'cancelled'; readonly sku: string | null };

export class Inventory {
  readonly stock: DocumentCollection<StockDoc>;
  readonly reservations: DocumentCollection<ReservationDoc>;

  constructor(
    documents: DocumentStore,
    private readonly clock: Clock,
  ) {
    this.stock = documents.collection<StockDoc>('inventory_stock');
    this.reservations = documents.collection<ReservationDoc>('inventory_reservations');
  }

  /** Give every catalogue sku its initial stock, once (insert-if-absent). */
  async ensureStock(): Promise<void> {
    const at = this.now();
    for (const product of productCatalog) {
      await this.stock.insert({ id: product.sku, available: initialStock(product), holds: {}, updatedAt: at });
    }
  }

  async available(sku: string): Promise<number> {
    return (await this.stock.get(sku))?.available ?? 0;
  }

  /** Admin: set what is on sale for a sku (held quantities stay held). */
  async setAvailable(sku: string, available: number): Promise<StockDoc> {
    if (!productCatalog.some((p) => p.sku === sku)) throw new NotFoundError(`Unknown sku "${sku}".`, { field: 'sku' });
    if (!Number.isInteger(available) || available < 0 || available > MAX_STOCK) {
      throw new ValidationError(`available must be a whole number from 0 to ${MAX_STOCK}.`, { field: 'available' });
    }
    const at = this.now();
    const doc = await this.stock.update(sku, (current) => ({ id: sku, available, holds: current?.holds ?? {}, updatedAt: at }));
    return doc as StockDoc;
  }

  async reserve(orderId: string, items: readonly StockLine[]): Promise<ReserveOutcome> {
    const decided = await this.reservations.get(orderId);
    if (decided) return outcomeOf(decided);
    const sorted = [...items].sort((a, b) => a.sku.localeCompare(b.sku));
    const held: StockLine[] = [];
    for (const line of sorted) {
      const doc = await this.stock.update(line.sku, (current) => {
        if (!current || current.holds[orderId] !== undefined || current.available < line.quantity) return null;
        return { ...current, available: current.available - line.quantity, holds: { ...current.holds, [orderId]: line.quantity }, updatedAt: this.now() };
      });
      if (doc?.holds[orderId] === undefined) {
        await this.unhold(orderId, held);
        const recorded = await this.decide(orderId, { status: 'failed', failedSku: line.sku });
        if (recorded.status === 'released') return { ok: false, reason: 'cancelled', sku: null };
        return outcomeOf(recorded);
      }
      held.push(line);
    }
    const recorded = await this.decide(orderId, { status: 'reserved', failedSku: null });
    if (recorded.status !== 'reserved') {
      // Released (or failed) while holding: give the stock back so nothing leaks.
      await this.unhold(orderId, held);
    }
    return outcomeOf(recorded);
  }

  /** Give back what the order holds and refuse any later reservation of it. Returns what was held. */
  async release(orderId: string, items: readonly StockLine[]): Promise<StockLine[]> {
    await this.reservations.update(orderId, (current) =>
      current?.status === 'released' ? null : { id: orderId, status: 'released', failedSku: current?.failedSku ?? null, updatedAt: this.now() },
    );
    return this.unhold(orderId, items);
  }

  /** The order completed: its holds become sold stock (only the bookkeeping goes). */
  async commit(orderId: string, items: readonly StockLine[]): Promise<void> {
    for (const line of items) {
      await this.stock.update(line.sku, (current) => {
        if (!current || current.holds[orderId] === undefined) return null;
        const { [orderId]: _sold, ...holds } = current.holds;
        return { ...current, holds, updatedAt: this.now() };
      });
    }
  }

  private async unhold(orderId: string, items: readonly StockLine[]): Promise<StockLine[]> {
    const released: StockLine[] = [];
    for (const line of items) {
      let quantity = 0;
      await this.stock.update(line.sku, (current) => {
        quantity = 0;
        const held = current?.holds[orderId];
        if (!current || held === undefined) return null;
        quantity = held;
        const { [orderId]: _released, ...holds } = current.holds;
        return { ...current, available: current.available + held, holds, updatedAt: this.now() };
      });
      if (quantity > 0) released.push({ sku: line.sku, quantity });
    }
    return released;
  }

  /** Record the outcome unless one is recorded already (first decision wins). */
  private async decide(orderId: string, outcome: Pick<ReservationDoc, 'status' | 'failedSku'>): Promise<ReservationDoc> {
    const doc = await this.reservations.update(orderId, (current) => (current ? null : { id: orderId, ...outcome, updatedAt: this.now() }));
    return doc as ReservationDoc;
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

function outcomeOf(doc: ReservationDoc): ReserveOutcome {
  switch (doc.status) {
    case 'reserved':
      return { ok: true };
    case 'failed':
      return { ok: false, reason: 'out_of_stock', sku: doc.failedSku };
    case 'released':
      return { ok: false, reason: 'cancelled', sku: null };
  }
}
