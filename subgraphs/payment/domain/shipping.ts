// The seed's Shipping service: one shipment per order (insert-if-absent keyed by the order), with a
// tracking number derived from the order id, so a repeated shipping.create ships nothing twice.
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import type { Clock } from '../../../platform/clock';
import { deterministicUuid } from '../../../platform/ids';
import { findProduct } from './product-catalog';
import type { StockLine } from './inventory';

/** The stream of an order's shipment (shipment.created). */
export function shipmentStreamId(orderId: string): string {
  return `shipment-${orderId}`;
}

export interface ShipmentDoc {
  /** The order id. */
  readonly id: string;
  readonly shipmentId: string;
  readonly memberId: string;
  readonly trackingNumber: string;
  /** `digital` when nothing physical is sent. */
  readonly carrier: 'postal' | 'digital';
  readonly items: readonly StockLine[];
  readonly createdAt: string;
}

export class Shipping {
  readonly shipments: DocumentCollection<ShipmentDoc>;

  constructor(
    documents: DocumentStore,
    private readonly clock: Clock,
  ) {
    this.shipments = documents.collection<ShipmentDoc>('shipments', { indexes: ['memberId'] });
  }

  async create(orderId: string, memberId: string, items: readonly StockLine[]): Promise<ShipmentDoc> {
    const physical = items.some((i) => findProduct(i.sku)?.kind === 'merchandise');
    const doc: ShipmentDoc = {
      id: orderId,
      shipmentId: deterministicUuid(`shipment:${orderId}`),
      memberId,
      trackingNumber: trackingNumberOf(orderId, physical),
      carrier: physical ? 'postal' : 'digital',
      items: [...items],
      createdAt: this.clock.now().toISOString(),
    };
    await this.shipments.insert(doc);
    return (await this.shipments.get(orderId)) ?? doc;
  }
}

export function trackingNumberOf(orderId: string, physical: boolean): string {
  const digits = deterministicUuid(`tracking:${orderId}`).replace(/-/g, '').slice(0, 12).toUpperCase();
  return `${physical ? 'PS' : 'DG'}${digits}`;
}
