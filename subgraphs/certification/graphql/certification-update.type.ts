// The payload of the certification subscriptions: what happened (event type, time, cursor), the
// transition (from and to state) and the certification right after it; its `member` field is
// resolved by the member subgraph through the gateway.
import { Field, ObjectType } from 'type-graphql';
import { EventUpdate } from '../../common/subscription-payload';
import { Certification, CertificationStatus } from './certification.type';

@ObjectType({ description: 'A lifecycle transition of a certification, pushed by `certificationLifecycle` and `certificationChanged`.' })
export class CertificationUpdate extends EventUpdate {
  @Field(() => Certification, { description: 'The certification as it was right after this transition.' })
  certification!: Certification;

  @Field(() => CertificationStatus, { nullable: true, description: 'Null for the application itself.' })
  fromState!: CertificationStatus | null;

  @Field(() => CertificationStatus)
  toState!: CertificationStatus;
}
