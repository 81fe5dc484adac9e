// The member slice's bus consumers: the seed's CRM, Email, Audit and Analytics services.
import type { Backends } from '../../messaging/backends';
import type { ConsumerDefinition } from '../../messaging/consumers/consumer-definition';
import type { Mailer } from './consumers/mailer';
import { activityConsumer } from './consumers/activity.consumer';
import { auditConsumer } from './consumers/audit.consumer';
import { crmConsumer } from './consumers/crm.consumer';
import { emailConsumer } from './consumers/email.consumer';
import { membershipConsumer } from './consumers/membership.consumer';
import { MemberService } from './domain/member-service';

export function memberConsumers(backends: Backends, mailer: Mailer, snapshotEvery = 50): ConsumerDefinition[] {
  const { documents, store, clock } = backends;
  return [
    crmConsumer({ documents, store, clock }),
    emailConsumer({ documents, store, clock, mailer }),
    auditConsumer({ documents }),
    activityConsumer({ documents }),
    // Paid memberships: the payment flow's order.completed activates them on the Member aggregate.
    membershipConsumer(new MemberService(store, documents, clock, snapshotEvery), store),
  ] as ConsumerDefinition[];
}
