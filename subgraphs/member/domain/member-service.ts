// The member application service: authorises and runs the seed's three commands (plus the paid
// activation) against the event-sourced Member, keeping emails unique across members.
// Membership follows payment (the seed's payment flow): a member registers at BASIC with no
// membership time, and gets a tier or time by ordering a membership product, whose payment
// activates it. Only admins set a higher tier at registration or renew without an order (a
// renewal paid or granted outside the shop).
import { randomUUID } from 'node:crypto';
import { CommandHandler, type CommandResult } from '../../../messaging/store/command-handler';
import type { EventStore } from '../../../messaging/store/event-store';
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import type { CausationContext } from '../../../messaging/events/envelope';
import type { Clock } from '../../../platform/clock';
import { ForbiddenError, NotFoundError, ValidationError } from '../../../platform/errors';
import type { Identity } from '../../../platform/auth';
import { IdempotencyKeys } from '../../../messaging/state/idempotency-keys';
import {
  memberDecider,
  memberStreamId,
  validateProfileFields,
  type MemberCommand,
  type MemberEvent,
  type MemberProfile,
  type MemberState,
  type Tier,
} from './member';

/** One document per email in use: its id is the normalised email, so inserts are the lock. */
interface EmailReservation {
  readonly id: string;
  readonly memberId: string;
}

export type RegisteredMember = Extract<MemberState, { status: 'registered' }>;

export interface MemberSnapshot {
  readonly member: RegisteredMember;
  readonly version: number;
}

const MEMBER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class MemberService {
  private readonly handler: CommandHandler<MemberCommand, MemberState, MemberEvent>;
  private readonly emails: DocumentCollection<EmailReservation>;
  private readonly keys: IdempotencyKeys;

  constructor(
    store: EventStore,
    documents: DocumentStore,
    clock: Clock,
    snapshotEvery: number,
  ) {
    this.handler = new CommandHandler(memberDecider, { store, clock, snapshotEvery });
    this.emails = documents.collection<EmailReservation>('member_emails');
    this.keys = new IdempotencyKeys(documents, clock);
  }

  /** A member registers itself (its id is its token subject); an admin may register anyone. */
  async create(
    identity: Identity,
    input: { id?: string | null; email: string; firstName: string; lastName: string; tier?: Tier | null },
    context: CausationContext,
    idempotencyKey: string | null = null,
  ): Promise<MemberSnapshot> {
    if (identity.role !== 'admin' && input.id && input.id !== identity.sub) {
      throw new ForbiddenError(`A member may only register itself (id ${identity.sub}).`);
    }
    // An admin's new member without an id gets a fresh one (the same on a repeat with the same key).
    const chosen = identity.role === 'admin' ? (input.id ?? null) : identity.sub;
    if (chosen !== null && !MEMBER_ID.test(chosen)) {
      throw new ValidationError('id must be 1 to 64 letters, digits, "-" or "_".', { field: 'id' });
    }
    if (identity.role !== 'admin' && input.tier && input.tier !== 'basic') {
      throw new ForbiddenError('A member registers at BASIC: order a membership product (MEM-PREMIUM-12, MEM-VIP-12) for a higher tier.', {
        field: 'tier',
      });
    }
    const profile = validateProfileFields({ email: input.email, firstName: input.firstName, lastName: input.lastName });
    const tier = input.tier ?? 'basic';
    return this.keys.run(
      { operation: 'createMember', caller: identity, key: idempotencyKey, input: { id: chosen, ...profile, tier } },
      {
        newId: () => chosen ?? randomUUID(),
        find: (memberId) => this.get(memberId),
        create: (memberId) =>
          this.withEmailReserved(memberId, profile.email, null, () => this.run(memberId, { kind: 'create', memberId, profile, tier }, context, 0)),
      },
    );
  }

  async updateProfile(
    memberId: string,
    changes: Partial<MemberProfile>,
    expectedVersion: number,
    context: CausationContext,
  ): Promise<MemberSnapshot> {
    const normalised = validateProfileFields(changes);
    const current = await this.get(memberId);
    if (!current) throw new NotFoundError(`No member with id ${memberId}.`, { id: memberId });
    const newEmail = normalised.email !== undefined && normalised.email !== current.member.profile.email ? normalised.email : null;
    if (!newEmail) return this.run(memberId, { kind: 'updateProfile', memberId, changes: normalised }, context, expectedVersion);
    return this.withEmailReserved(memberId, newEmail, current.member.profile.email, () =>
      this.run(memberId, { kind: 'updateProfile', memberId, changes: normalised }, context, expectedVersion),
    );
  }

  /** An admin records a renewal paid or granted outside the shop; members renew by ordering a membership product. */
  async renew(
    identity: Identity,
    memberId: string,
    input: { months: number; tier?: Tier | null },
    expectedVersion: number | undefined,
    context: CausationContext,
  ): Promise<MemberSnapshot> {
    if (identity.role !== 'admin') {
      throw new ForbiddenError('Membership follows payment: renew by ordering a membership product (MEM-BASIC-12, MEM-PREMIUM-12, MEM-VIP-12).');
    }
    return this.run(memberId, { kind: 'renew', memberId, months: input.months, ...(input.tier ? { tier: input.tier } : {}) }, context, expectedVersion);
  }

  /** A paid membership starts (the payment flow); idempotent per order through the event id. */
  activate(
    memberId: string,
    input: { tier: Tier; months: number; orderId: string | null },
    context: CausationContext,
    eventId?: string,
  ): Promise<MemberSnapshot> {
    return this.run(memberId, { kind: 'activate', memberId, ...input }, context, undefined, eventId ? [eventId] : undefined);
  }

  /** The member as its events say now (strongly consistent; queries use the read model). */
  async get(memberId: string): Promise<MemberSnapshot | null> {
    const { state, version } = await this.handler.load(memberStreamId(memberId));
    return state.status === 'registered' ? { member: state, version } : null;
  }

  /** The same state rebuilt from every event, ignoring snapshots. */
  async getFromEvents(memberId: string): Promise<MemberSnapshot | null> {
    const { state, version } = await this.handler.loadFromEvents(memberStreamId(memberId));
    return state.status === 'registered' ? { member: state, version } : null;
  }

  private async run(
    memberId: string,
    command: MemberCommand,
    context: CausationContext,
    expectedVersion: number | undefined,
    eventIds?: readonly string[],
  ): Promise<MemberSnapshot> {
    const result: CommandResult<MemberState> = await this.handler.handle(
      memberStreamId(memberId),
      command,
      context,
      expectedVersion,
      eventIds,
    );
    if (result.state.status !== 'registered') throw new NotFoundError(`No member with id ${memberId}.`, { id: memberId });
    return { member: result.state, version: result.version };
  }

  /**
   * Reserve `email` for the member, run the command, then release `previous`. A refused command
   * releases the new reservation, so a refusal leaves nothing behind.
   */
  private async withEmailReserved<T>(memberId: string, email: string, previous: string | null, command: () => Promise<T>): Promise<T> {
    const reserved = await this.emails.insert({ id: email, memberId });
    if (!reserved) {
      const holder = await this.emails.get(email);
      if (holder && holder.memberId !== memberId) {
        throw new ValidationError(`email ${email} is already used by another member.`, { field: 'email' });
      }
    }
    let result: T;
    try {
      result = await command();
    } catch (error) {
      if (reserved) await this.emails.delete(email);
      throw error;
    }
    if (previous) {
      const old = await this.emails.get(previous);
      if (old?.memberId === memberId) await this.emails.delete(previous);
    }
    return result;
  }
}
