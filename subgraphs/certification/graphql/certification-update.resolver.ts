// `certificationLifecycle(id)` and `certificationChanged(memberId)`: push each transition of one
// certification, or of all of a member's certifications, fed by the live feed (and the store when
// the client resumes with a cursor). The applicant may watch its own; an admin any.
import { Arg, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { AnyEventEnvelope } from '../../../messaging/events/envelope';
import { DomainError, ForbiddenError, NotFoundError } from '../../../platform/errors';
import { requireIdentity, requireSelfOrAdmin } from '../../common/context';
import { subscribeToEntityEvents, updateFieldsOf, type SubscriptionContext } from '../../common/subscription-payload';
import { certificationEventTypes, certificationStreamId, isCertificationEvent } from '../domain/certification';
import type { CertificationService } from '../domain/certification-service';
import { certificationFromState } from './certification.mapper';
import { CertificationStatus } from './certification.type';
import { CertificationUpdate } from './certification-update.type';

/** The events the certification subscriptions need (the subgraph's live queue binds to these). */
export const certificationUpdateEventTypes = certificationEventTypes;

export interface CertificationUpdateDeps {
  readonly service: CertificationService;
}

@Resolver(() => CertificationUpdate)
export class CertificationUpdateResolver {
  constructor(private readonly deps: CertificationUpdateDeps) {}

  @Subscription(() => CertificationUpdate, {
    description:
      "Every transition of one certification, as it happens. Resume with the last `cursor` as `extensions.cursor` of the subscribe message. The applicant may watch its own; an admin any.",
    subscribe: async ({ args, context }) => {
      const ctx = context as SubscriptionContext;
      const id = String((args as { id: string }).id);
      const identity = requireIdentity(ctx);
      const applicantId = await applicantOf(ctx, id);
      if (applicantId === null) throw new NotFoundError(`No certification with id ${id}.`, { id });
      if (identity.role !== 'admin' && applicantId !== identity.sub) {
        throw new ForbiddenError(`Certification ${id} is not yours.`);
      }
      return subscribeToEntityEvents(ctx, certificationUpdateEventTypes, (e) => isCertificationEvent(e) && e.payload.certificationId === id, {
        field: 'certificationId',
        value: id,
      });
    },
  })
  certificationLifecycle(@Root() event: AnyEventEnvelope, @Arg('id', () => ID, { description: 'The certification to watch.' }) _id: string): Promise<CertificationUpdate> {
    return this.toUpdate(event);
  }

  @Subscription(() => CertificationUpdate, {
    description: "Every transition of any of one member's certifications (new applications included). A member may watch itself only; an admin anyone.",
    subscribe: ({ args, context }) => {
      const ctx = context as SubscriptionContext;
      const memberId = String((args as { memberId: string }).memberId);
      requireSelfOrAdmin(ctx, memberId);
      return subscribeToEntityEvents(ctx, certificationUpdateEventTypes, (e) => isCertificationEvent(e) && e.payload.applicantId === memberId, {
        field: 'applicantId',
        value: memberId,
      });
    },
  })
  certificationChanged(@Root() event: AnyEventEnvelope, @Arg('memberId', () => ID, { description: 'The member whose certifications to watch.' }) _memberId: string): Promise<CertificationUpdate> {
    return this.toUpdate(event);
  }

  /** The update for one event: the certification's state just before and just after it. */
  private async toUpdate(event: AnyEventEnvelope): Promise<CertificationUpdate> {
    if (!isCertificationEvent(event)) throw new Error(`certification subscription got an unexpected ${event.type} event`);
    const { before, after } = await this.deps.service.getAt(event.payload.certificationId, event.streamVersion);
    if (after.status === 'absent') throw new Error(`certification ${event.payload.certificationId} has no state at version ${event.streamVersion}`);
    return Object.assign(new CertificationUpdate(), {
      ...updateFieldsOf(event),
      certification: certificationFromState(after, event.streamVersion),
      fromState: before.status === 'absent' ? null : (before.status as CertificationStatus),
      toState: after.status as CertificationStatus,
    });
  }
}

/**
 * The applicant of a certification, from its first event. `subscribe` runs outside the resolver
 * instance (type-graphql calls it statically), so it reads the store the subscription context has.
 */
async function applicantOf(ctx: SubscriptionContext, id: string): Promise<string | null> {
  const store = ctx.subscription?.sources?.store;
  if (!store) throw new DomainError('UNAVAILABLE', 'Subscriptions are not available on this subgraph instance.');
  const [first] = await store.readStream(certificationStreamId(id), 1);
  return first?.type === 'certification.applied' ? first.payload.applicantId : null;
}
