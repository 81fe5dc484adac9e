// Catalogue queries.
import { Query, Resolver } from 'type-graphql';
import { productCatalog, findProduct, type Product as CatalogProduct } from '../domain/product-catalog';
import { Product, ProductKindValue } from './product.type';

export function toProduct(p: CatalogProduct): Product {
  return Object.assign(new Product(), {
    sku: p.sku,
    name: p.name,
    kind: p.kind as ProductKindValue,
    priceCents: p.priceCents,
    currency: p.currency,
  });
}

export function resolveProductReference(reference: { sku: string }): Product | null {
  const product = findProduct(reference.sku);
  return product ? toProduct(product) : null;
}

@Resolver(() => Product)
export class ProductResolver {
  @Query(() => [Product], { description: 'The product catalogue.' })
  products(): Product[] {
    return productCatalog.map(toProduct);
  }
}
