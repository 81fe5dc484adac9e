// The payload of the certification subscriptions: what happened (event type, time, cursor), the
// transition (from and to state) and the certification right after it; its `member` field is
// resolved by the member subgraph through the gateway.
import { Field, ObjectType } from 'type-graphql';
import { EventUpdate, eventTypeDescription } from '../../common/subscription-payload';
import { certificationEventTypes } from '../domain/certification';
import { Certification, CertificationStatus } from './certification.type';

@ObjectType({ description: 'A lifecycle transition of a certification, pushed by `certificationLifecycle` and `certificationChanged`.' })
export class CertificationUpdate extends EventUpdate {
  @Field({ description: eventTypeDescription('The transition that happened', certificationEventTypes) })
  override eventType!: string;

  @Field(() => Certification, { description: 'The certification as it was right after this transition.' })
  certification!: Certification;

  @Field(() => CertificationStatus, { nullable: true, description: 'Null for the application itself.' })
  fromState!: CertificationStatus | null;

  @Field(() => CertificationStatus, { description: 'The status after this transition.' })
  toState!: CertificationStatus;
}
