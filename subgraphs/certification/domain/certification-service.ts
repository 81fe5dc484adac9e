// The certification application service: authorises and runs each lifecycle command against the
// event-sourced Certification, numbers issued certificates, and reads a certification's timeline.
import { randomUUID } from 'node:crypto';
import { CommandHandler } from '../../../messaging/store/command-handler';
import type { EventStore } from '../../../messaging/store/event-store';
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import type { Actor, CausationContext } from '../../../messaging/events/envelope';
import type { Clock } from '../../../platform/clock';
import { ForbiddenError, NotFoundError, ValidationError } from '../../../platform/errors';
import type { Identity } from '../../../platform/auth';
import { requireMembers, storeMemberDirectory, type MemberDirectory } from '../../member/member-directory';
import { IdempotencyKeys } from '../../../messaging/state/idempotency-keys';
import {
  certificationDecider,
  certificationStreamId,
  decide,
  evolve,
  initialCertificationState,
  isCertificationEvent,
  limits,
  nextStatus,
  type CertificationCommand,
  type CertificationDocument,
  type CertificationEvent,
  type CertificationEventType,
  type CertificationState,
  type CertificationStatus,
  requireCertificationType,
  type ExistingCertification,
} from './certification';

export interface CertificationSnapshot {
  readonly certification: ExistingCertification;
  readonly version: number;
}

/** One step of a certification's life, as its events tell it. */
export interface TimelineEntry {
  readonly eventId: string;
  readonly eventType: CertificationEventType;
  readonly occurredAt: string;
  readonly position: number;
  readonly version: number;
  readonly fromState: CertificationStatus | null;
  readonly toState: CertificationStatus;
  readonly actor: Actor | null;
  readonly reason: string | null;
}

/** Per type and year, the last certificate number handed out (`CPA-2025` -> 123). */
interface NumberCounter {
  readonly id: string;
  readonly last: number;
}

/** Commands an admin runs by naming the certification (reasons where the seed implies one). */
export type AdminCommand = Extract<
  CertificationCommand,
  { kind: 'startReview' | 'approve' | 'reject' | 'activate' | 'suspend' | 'reactivate' | 'revoke' }
>;

const ID = new RegExp(`^[A-Za-z0-9_-]{1,${limits.id}}$`);

export class CertificationService {
  private readonly handler: CommandHandler<CertificationCommand, CertificationState, CertificationEvent>;
  private readonly counters: DocumentCollection<NumberCounter>;
  private readonly keys: IdempotencyKeys;

  constructor(
    private readonly store: EventStore,
    documents: DocumentStore,
    private readonly clock: Clock,
    snapshotEvery: number,
    private readonly members: MemberDirectory = storeMemberDirectory(store),
  ) {
    this.handler = new CommandHandler(certificationDecider, { store, clock, snapshotEvery });
    this.counters = documents.collection<NumberCounter>('certification_numbers');
    this.keys = new IdempotencyKeys(documents, clock);
  }

  /** A member applies for itself; an admin may apply on a member's behalf. */
  async apply(
    identity: Identity,
    input: { memberId?: string | null; certType: string; documents: readonly CertificationDocument[] },
    context: CausationContext,
    idempotencyKey: string | null = null,
  ): Promise<CertificationSnapshot> {
    const applicantId = input.memberId ?? identity.sub;
    if (identity.role !== 'admin' && applicantId !== identity.sub) {
      throw new ForbiddenError(`A member may only apply for itself (you are ${identity.sub}, not ${applicantId}).`);
    }
    if (!ID.test(applicantId)) throw new ValidationError(`memberId must be 1 to ${limits.id} letters, digits, "-" or "_".`, { field: 'memberId' });
    await requireMembers(this.members, [applicantId], () => 'memberId');
    // With a key, a repeat answers the first application; twins meet at expected version 0.
    return this.keys.run(
      { operation: 'applyForCertification', caller: identity, key: idempotencyKey, input: { applicantId, certType: input.certType, documents: input.documents } },
      {
        newId: () => randomUUID(),
        find: (certificationId) => this.get(certificationId),
        create: (certificationId) =>
          this.run(certificationId, { kind: 'apply', certificationId, applicantId, certType: input.certType, documents: input.documents }, context, 0),
      },
    );
  }

  /** The applicant (or an admin) renews an expiring certification. */
  async renew(identity: Identity, id: string, context: CausationContext, expectedVersion?: number): Promise<CertificationSnapshot> {
    await this.requireOwnerOrAdmin(identity, id);
    return this.run(id, { kind: 'renew' }, context, expectedVersion);
  }

  admin(id: string, command: AdminCommand, context: CausationContext, expectedVersion?: number): Promise<CertificationSnapshot> {
    return this.run(id, command, context, expectedVersion);
  }

  /**
   * Issue with the next number of the type and year. The transition is checked before a number is
   * taken, so refusals burn none; only a lost race (CONFLICT) leaves a gap, never a duplicate.
   */
  async issue(id: string, context: CausationContext, expectedVersion?: number): Promise<CertificationSnapshot> {
    const current = await this.require(id);
    if (nextStatus(current.certification.status, 'certification.issued') === undefined) {
      decide({ kind: 'issue', certNumber: 'XX-0000-000000' }, current.certification, this.clock.now()); // throws the refusal
    }
    const type = requireCertificationType(current.certification.certType);
    const year = this.clock.now().getUTCFullYear();
    const counter = await this.counters.update(`${type.code}-${year}`, (c) => ({ id: `${type.code}-${year}`, last: (c?.last ?? 0) + 1 }));
    const certNumber = `${type.code}-${year}-${String(counter?.last ?? 0).padStart(6, '0')}`;
    return this.run(id, { kind: 'issue', certNumber }, context, expectedVersion ?? current.version);
  }

  /** The scheduler's commands: refused (INVALID_TRANSITION) when not due or not in the state. */
  schedule(id: string, kind: 'markExpiringSoon' | 'expire', context: CausationContext, expectedVersion: number): Promise<CertificationSnapshot> {
    return this.run(id, { kind }, context, expectedVersion);
  }

  /** The certification as its events say now (strongly consistent; lists use the read model). */
  async get(id: string): Promise<CertificationSnapshot | null> {
    if (!ID.test(id)) return null;
    const { state, version } = await this.handler.load(certificationStreamId(id));
    return state.status === 'absent' ? null : { certification: state, version };
  }

  /** The state right after stream version `version` (what a subscriber saw at that event). */
  async getAt(id: string, version: number): Promise<{ before: CertificationState; after: CertificationState }> {
    let before: CertificationState = initialCertificationState;
    let after: CertificationState = initialCertificationState;
    for (const event of await this.store.readStream(certificationStreamId(id))) {
      if (event.streamVersion > version) break;
      if (!isCertificationEvent(event)) continue;
      before = after;
      after = evolve(after, event);
    }
    return { before, after };
  }

  async timeline(id: string): Promise<TimelineEntry[]> {
    const entries: TimelineEntry[] = [];
    let state: CertificationState = initialCertificationState;
    for (const event of await this.store.readStream(certificationStreamId(id))) {
      if (!isCertificationEvent(event)) continue;
      const from = state.status === 'absent' ? null : state.status;
      state = evolve(state, event);
      if (state.status === 'absent') continue;
      const payload = event.payload as { reason?: string };
      entries.push({
        eventId: event.id,
        eventType: event.type,
        occurredAt: event.occurredAt,
        position: event.position,
        version: event.streamVersion,
        fromState: from,
        toState: state.status,
        actor: event.actor,
        reason: payload.reason ?? null,
      });
    }
    return entries;
  }

  async requireOwnerOrAdmin(identity: Identity, id: string): Promise<CertificationSnapshot> {
    const current = await this.require(id);
    if (identity.role !== 'admin' && current.certification.applicantId !== identity.sub) {
      throw new ForbiddenError(`Certification ${id} is not yours.`);
    }
    return current;
  }

  private async require(id: string): Promise<CertificationSnapshot> {
    const current = await this.get(id);
    if (!current) throw new NotFoundError(`No certification with id ${id}.`, { id });
    return current;
  }

  private async run(id: string, command: CertificationCommand, context: CausationContext, expectedVersion?: number): Promise<CertificationSnapshot> {
    let result;
    try {
      result = await this.handler.handle(certificationStreamId(id), command, context, expectedVersion);
    } catch (error) {
      if (error instanceof NotFoundError) throw new NotFoundError(`No certification with id ${id}.`, { id });
      throw error;
    }
    if (result.state.status === 'absent') throw new NotFoundError(`No certification with id ${id}.`, { id });
    return { certification: result.state, version: result.version };
  }
}
