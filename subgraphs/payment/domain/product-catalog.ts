// What the organisation sells: memberships (which activate a tier when paid), courses and goods.
// Prices are in minor units (cents) to keep money arithmetic exact.

export type ProductKind = 'membership' | 'course' | 'merchandise';

export interface Product {
  readonly sku: string;
  readonly name: string;
  readonly kind: ProductKind;
  readonly priceCents: number;
  readonly currency: 'EUR';
  /** For memberships: the tier it activates and for how long. */
  readonly membership?: { readonly tier: 'basic' | 'premium' | 'vip'; readonly months: number };
}

export const productCatalog: readonly Product[] = [
  { sku: 'MEM-BASIC-12', name: 'Basic membership, 12 months', kind: 'membership', priceCents: 4900, currency: 'EUR', membership: { tier: 'basic', months: 12 } },
  { sku: 'MEM-PREMIUM-12', name: 'Premium membership, 12 months', kind: 'membership', priceCents: 12900, currency: 'EUR', membership: { tier: 'premium', months: 12 } },
  { sku: 'MEM-VIP-12', name: 'VIP membership, 12 months', kind: 'membership', priceCents: 29900, currency: 'EUR', membership: { tier: 'vip', months: 12 } },
  { sku: 'COURSE-ETHICS', name: 'Professional ethics course', kind: 'course', priceCents: 19900, currency: 'EUR' },
  { sku: 'COURSE-AUDIT', name: 'Audit practice course', kind: 'course', priceCents: 34900, currency: 'EUR' },
  { sku: 'GOODS-HANDBOOK', name: 'Member handbook (print)', kind: 'merchandise', priceCents: 2500, currency: 'EUR' },
];

export function findProduct(sku: string): Product | undefined {
  return productCatalog.find((p) => p.sku === sku);
}

/** Stock a sku starts with when the inventory first sees it; digital products are practically unlimited. */
export function initialStock(product: Product): number {
  return product.kind === 'merchandise' ? 500 : 1_000_000;
}
