// A cursor connection of members (Relay style).
import { Field, Int, ObjectType } from 'type-graphql';
import { Member } from './member.type';

@ObjectType()
export class MemberEdge {
  @Field()
  cursor!: string;

  @Field(() => Member)
  node!: Member;
}

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType()
export class MemberConnection {
  @Field(() => [MemberEdge])
  edges!: MemberEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Members matching the filters, all pages together.' })
  totalCount!: number;
}
