// Pricing an order's lines: the quantity limit holds per sku per order, however the sku is split
// over lines; refusals name the line.
import { orderLimits, priceOrder } from '../../subgraphs/payment/domain/order';

describe('priceOrder', () => {
  it('merges lines of one sku and prices the total', () => {
    const { items, totalCents } = priceOrder([
      { sku: 'GOODS-HANDBOOK', quantity: 40 },
      { sku: 'COURSE-ETHICS', quantity: 1 },
      { sku: 'GOODS-HANDBOOK', quantity: 60 },
    ]);
    expect(items).toEqual([
      { sku: 'GOODS-HANDBOOK', quantity: 100, unitPriceCents: 2500 },
      { sku: 'COURSE-ETHICS', quantity: 1, unitPriceCents: 19900 },
    ]);
    expect(totalCents).toBe(100 * 2500 + 19900);
  });

  it('refuses one sku split over lines that add up to more than the limit, naming the line that passes it', () => {
    const lines = Array.from({ length: 3 }, () => ({ sku: 'GOODS-HANDBOOK', quantity: 50 }));
    expect(() => priceOrder(lines)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field: 'items.2.quantity' } }));
    expect(() => priceOrder(lines)).toThrow(/at most 100 of GOODS-HANDBOOK, however many lines .* add up to 150/);
  });

  it('refuses a single line over the limit as before', () => {
    expect(() => priceOrder([{ sku: 'GOODS-HANDBOOK', quantity: orderLimits.quantity + 1 }])).toThrow(
      expect.objectContaining({ details: { field: 'items.0.quantity' } }),
    );
  });

  it('holds the limit with the most lines an order may have', () => {
    const lines = Array.from({ length: orderLimits.lines }, () => ({ sku: 'COURSE-AUDIT', quantity: orderLimits.quantity }));
    expect(() => priceOrder(lines)).toThrow(expect.objectContaining({ details: { field: 'items.1.quantity' } }));
  });
});
