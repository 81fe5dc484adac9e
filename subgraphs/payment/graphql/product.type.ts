// A product of the catalogue, an entity other subgraphs may reference by sku.
import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum ProductKindValue {
  MEMBERSHIP = 'membership',
  COURSE = 'course',
  MERCHANDISE = 'merchandise',
}
registerEnumType(ProductKindValue, {
  name: 'ProductKind',
  description: 'What sort of thing a product is.',
  valuesConfig: {
    MEMBERSHIP: { description: 'A membership: paying for it activates its tier.' },
    COURSE: { description: 'A course.' },
    MERCHANDISE: { description: 'Physical goods, shipped (stock is limited).' },
  },
});

@Directive('@key(fields: "sku")')
@ObjectType({ description: 'Something the organisation sells.' })
export class Product {
  @Field(() => ID, { description: 'Unique id of the product (its SKU), so caches know it without configuration.' })
  get id(): string {
    return this.sku;
  }

  @Field(() => ID, { description: 'Stock keeping unit: what orders name the product by.' })
  sku!: string;

  @Field({ description: 'What it is called.' })
  name!: string;

  @Field(() => ProductKindValue, { description: 'MEMBERSHIP, COURSE or MERCHANDISE.' })
  kind!: ProductKindValue;

  @Field(() => Int, { description: 'Price in minor units (cents).' })
  priceCents!: number;

  @Field({ description: 'ISO 4217 currency code.' })
  currency!: string;
}
