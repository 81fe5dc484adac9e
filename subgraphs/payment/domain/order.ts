// An order as the checkout builds it: validated lines priced from the catalogue, the total, and
// the memberships it activates. Pure: throws coded errors naming the offending field.
import { ValidationError } from '../../../platform/errors';
import { findProduct, type Product } from './product-catalog';

export interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}

export interface MembershipPurchase {
  readonly sku: string;
  readonly tier: 'basic' | 'premium' | 'vip';
  readonly months: number;
}

/** What the saga knows of an order from its `order.created` event. */
export interface OrderFacts {
  readonly orderId: string;
  readonly memberId: string;
  readonly items: readonly OrderLine[];
  readonly totalCents: number;
  readonly currency: 'EUR';
  readonly paymentId: string;
  readonly memberships: readonly MembershipPurchase[];
}

/** `quantity`: per sku per order, however many lines it is split over. */
export const orderLimits = { lines: 20, quantity: 100 } as const;

/** Validate requested lines against the catalogue; repeated skus are merged (and limited together). */
export function priceOrder(requested: readonly { sku: string; quantity: number }[]): {
  items: OrderLine[];
  totalCents: number;
  memberships: MembershipPurchase[];
} {
  if (requested.length === 0) throw new ValidationError('An order needs at least one item.', { field: 'items' });
  if (requested.length > orderLimits.lines) {
    throw new ValidationError(`An order has at most ${orderLimits.lines} lines.`, { field: 'items' });
  }
  const merged = new Map<string, { product: Product; quantity: number }>();
  requested.forEach((line, i) => {
    const product = findProduct(line.sku);
    if (!product) throw new ValidationError(`Unknown sku "${line.sku}": see the products query.`, { field: `items.${i}.sku` });
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > orderLimits.quantity) {
      throw new ValidationError(`quantity must be a whole number from 1 to ${orderLimits.quantity}.`, { field: `items.${i}.quantity` });
    }
    const quantity = (merged.get(product.sku)?.quantity ?? 0) + line.quantity;
    if (quantity > orderLimits.quantity) {
      throw new ValidationError(
        `An order holds at most ${orderLimits.quantity} of ${product.sku}, however many lines it is split over (these add up to ${quantity}).`,
        { field: `items.${i}.quantity` },
      );
    }
    merged.set(product.sku, { product, quantity });
  });
  const memberships = [...merged.values()].filter((l) => l.product.membership);
  if (memberships.length > 1 || memberships.some((l) => l.quantity !== 1)) {
    // One membership per order: two would race for the same member's tier.
    throw new ValidationError('An order may hold one membership, with quantity 1.', { field: 'items' });
  }
  const items = [...merged.values()].map((l) => ({ sku: l.product.sku, quantity: l.quantity, unitPriceCents: l.product.priceCents }));
  return {
    items,
    totalCents: items.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0),
    memberships: memberships.map((l) => ({ sku: l.product.sku, tier: l.product.membership!.tier, months: l.product.membership!.months })),
  };
}
