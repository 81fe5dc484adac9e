// The Member aggregate as a pure decider: commands are validated against the current state and
// turned into events; `evolve` folds events into state. No I/O, no clock: time is passed in.
import { z } from 'zod';
import type { EventEnvelope } from '../../../messaging/events/envelope';
import type { Decider } from '../../../messaging/store/command-handler';
import type { EventPayload } from '../../../messaging/events/catalog';
import { DomainError, NotFoundError, ValidationError } from '../../../platform/errors';
import { unsafeCharacterIn } from '../../../platform/safe-text';

export type Tier = 'basic' | 'premium' | 'vip';
export const tiers: readonly Tier[] = ['basic', 'premium', 'vip'];

export interface MemberProfile {
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
}

export type MemberState =
  | { readonly status: 'absent' }
  | {
      readonly status: 'registered';
      readonly id: string;
      readonly profile: MemberProfile;
      readonly tier: Tier;
      /** End of the paid or renewed membership; null before the first renewal or activation. */
      readonly membershipExpiresAt: string | null;
      readonly createdAt: string;
      readonly updatedAt: string;
    };

export const initialMemberState: MemberState = { status: 'absent' };

export type MemberEventType = 'member.created' | 'member.profile.updated' | 'membership.renewed' | 'membership.activated';
export type MemberEvent = { [T in MemberEventType]: { type: T; payload: EventPayload<T> } }[MemberEventType];

export type MemberCommand =
  | { readonly kind: 'create'; readonly memberId: string; readonly profile: MemberProfile; readonly tier: Tier }
  | { readonly kind: 'updateProfile'; readonly memberId: string; readonly changes: Partial<MemberProfile> }
  | { readonly kind: 'renew'; readonly memberId: string; readonly months: number; readonly tier?: Tier }
  | {
      readonly kind: 'activate';
      readonly memberId: string;
      readonly tier: Tier;
      readonly months: number;
      readonly orderId: string | null;
    };

export const profileLimits = { name: 100, email: 254 } as const;

const fieldSchemas = {
  email: z.string().trim().toLowerCase().max(profileLimits.email, `must be at most ${profileLimits.email} characters`).pipe(z.email('must be a valid email address')),
  firstName: z.string().trim().min(1, 'must not be empty').max(profileLimits.name, `must be at most ${profileLimits.name} characters`),
  lastName: z.string().trim().min(1, 'must not be empty').max(profileLimits.name, `must be at most ${profileLimits.name} characters`),
} as const;

/**
 * Normalise and validate profile fields; the first problem is reported naming its field. Names go
 * into emails and onto other people's screens: no control or bidirectional characters in them.
 */
export function validateProfileFields<P extends Partial<MemberProfile>>(fields: P): P {
  const out: Record<string, string> = {};
  for (const [field, value] of Object.entries(fields) as [keyof MemberProfile, string | undefined][]) {
    if (value === undefined) continue;
    const result = fieldSchemas[field].safeParse(value);
    if (!result.success) {
      const message = result.error.issues[0]?.message ?? 'is invalid';
      throw new ValidationError(`${field} ${message}.`, { field });
    }
    // Checked once trimmed: surrounding white space (a pasted newline) is dropped, not refused.
    const unsafe = unsafeCharacterIn(result.data);
    if (unsafe) throw new ValidationError(`${field} must not contain control characters, bidirectional controls or unpaired surrogates (found ${unsafe}).`, { field });
    out[field] = result.data;
  }
  return out as P;
}

function addMonths(fromIso: string, months: number): string {
  const date = new Date(fromIso);
  date.setUTCMonth(date.getUTCMonth() + months);
  return date.toISOString();
}

function validMonths(months: number): number {
  if (!Number.isInteger(months) || months < 1 || months > 36) {
    throw new ValidationError('months must be a whole number from 1 to 36.', { field: 'months' });
  }
  return months;
}

/** Decide the events a command causes, or refuse it with a coded error. */
export function decide(command: MemberCommand, state: MemberState, now: Date): MemberEvent[] {
  switch (command.kind) {
    case 'create': {
      if (state.status !== 'absent') {
        throw new DomainError('CONFLICT', `Member ${command.memberId} already exists.`, { field: 'id' });
      }
      const profile = validateProfileFields(command.profile);
      return [{ type: 'member.created', payload: { memberId: command.memberId, ...profile, tier: command.tier } }];
    }
    case 'updateProfile': {
      const current = requireRegistered(state, command.memberId);
      const next = validateProfileFields(command.changes);
      const changes: Record<string, { before: unknown; after: unknown }> = {};
      for (const [field, after] of Object.entries(next) as [keyof MemberProfile, string][]) {
        if (current.profile[field] !== after) changes[field] = { before: current.profile[field], after };
      }
      if (Object.keys(changes).length === 0) return [];
      return [{ type: 'member.profile.updated', payload: { memberId: command.memberId, changes } }];
    }
    case 'renew': {
      const current = requireRegistered(state, command.memberId);
      const months = validMonths(command.months);
      const from = extendFrom(current.membershipExpiresAt, now);
      return [
        {
          type: 'membership.renewed',
          payload: { memberId: command.memberId, tier: command.tier ?? current.tier, expiresAt: addMonths(from, months) },
        },
      ];
    }
    case 'activate': {
      const current = requireRegistered(state, command.memberId);
      const months = validMonths(command.months);
      const from = extendFrom(current.membershipExpiresAt, now);
      return [
        {
          type: 'membership.activated',
          payload: { memberId: command.memberId, tier: command.tier, expiresAt: addMonths(from, months), orderId: command.orderId },
        },
      ];
    }
  }
}

/** A renewal extends a running membership from its end, a lapsed one from now. */
function extendFrom(expiresAt: string | null, now: Date): string {
  return expiresAt !== null && new Date(expiresAt) > now ? expiresAt : now.toISOString();
}

function requireRegistered(state: MemberState, memberId: string): Extract<MemberState, { status: 'registered' }> {
  if (state.status !== 'registered') throw new NotFoundError(`No member with id ${memberId}.`, { id: memberId });
  return state;
}

export function evolve(state: MemberState, event: EventEnvelope<MemberEventType> | (MemberEvent & { occurredAt: string })): MemberState {
  const e = event as MemberEvent & { occurredAt: string };
  switch (e.type) {
    case 'member.created':
      return {
        status: 'registered',
        id: e.payload.memberId,
        profile: { email: e.payload.email, firstName: e.payload.firstName, lastName: e.payload.lastName },
        tier: e.payload.tier,
        membershipExpiresAt: null,
        createdAt: e.occurredAt,
        updatedAt: e.occurredAt,
      };
    case 'member.profile.updated': {
      if (state.status !== 'registered') return state;
      const profile = { ...state.profile } as Record<keyof MemberProfile, string>;
      for (const [field, change] of Object.entries(e.payload.changes)) {
        if (field in profile) profile[field as keyof MemberProfile] = String(change.after);
      }
      return { ...state, profile, updatedAt: e.occurredAt };
    }
    case 'membership.renewed':
    case 'membership.activated':
      if (state.status !== 'registered') return state;
      return { ...state, tier: e.payload.tier, membershipExpiresAt: e.payload.expiresAt, updatedAt: e.occurredAt };
    default: {
      const unhandled: never = e;
      return unhandled;
    }
  }
}

export type MembershipStatus = 'none' | 'active' | 'expired';

export function membershipStatus(expiresAt: string | null, now: Date): MembershipStatus {
  if (expiresAt === null) return 'none';
  return new Date(expiresAt) > now ? 'active' : 'expired';
}

export function memberStreamId(memberId: string): string {
  return `member-${memberId}`;
}

const memberEventTypes: readonly MemberEventType[] = ['member.created', 'member.profile.updated', 'membership.renewed', 'membership.activated'];
const memberEventTypeSet: ReadonlySet<string> = new Set(memberEventTypes);

export function isMemberEvent(event: { type: string }): event is EventEnvelope<MemberEventType> {
  return memberEventTypeSet.has(event.type);
}

/** The decider as the command handler runs it. */
export const memberDecider = {
  initialState: initialMemberState,
  decide,
  evolve,
  eventTypes: memberEventTypes,
  snapshotSchemaVersion: 1,
} satisfies Decider<MemberCommand, MemberState, MemberEvent>;
