// The member slice's background work: its bus consumers, the seed's CRM, Email, Audit and Analytics
// services, and the mailer the email consumer sends with.
import type { Backends } from '../../messaging/backends';
import type { ConsumerDefinition } from '../../messaging/consumers/consumer-definition';
import type { RunningSubgraphWorkers, SubgraphConfig } from '../common/subgraph-definition';
import { createMailer, type Mailer } from './consumers/mailer';
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

export interface MemberWorkersOverrides {
  /** Replaces the mailer of SMTP_URL (to hold or inspect deliveries). */
  readonly mailer?: Mailer;
}

export interface MemberWorkers extends RunningSubgraphWorkers {
  readonly mailer: Mailer;
}

export async function startMemberWorkers(backends: Backends, cfg: SubgraphConfig, overrides: MemberWorkersOverrides = {}): Promise<MemberWorkers> {
  const mailer = overrides.mailer ?? createMailer(cfg.SMTP_URL, cfg.MAIL_FROM);
  return { mailer, consumers: memberConsumers(backends, mailer, cfg.SNAPSHOT_EVERY), close: () => mailer.close() };
}
