// The Certification aggregate as a pure decider over the seed's state machine: `transitions` is the
// diagram as data, `decide` refuses anything it does not draw, `evolve` folds events into state.
import type { EventEnvelope } from '../../../messaging/events/envelope';
import type { Decider } from '../../../messaging/store/command-handler';
import { z } from 'zod';
import type { EventPayload } from '../../../messaging/events/catalog';
import { certificationEvents } from '../../../messaging/events/catalog/certification';
import { DomainError, IllegalStateError, NotFoundError, ValidationError } from '../../../platform/errors';
import { findCertificationType, certificationTypes, type CertificationType } from './certification-types';
import { unsafeCharacterIn } from '../../../platform/safe-text';

export const certificationStatuses = [
  'Applied',
  'UnderReview',
  'Approved',
  'Rejected',
  'Issued',
  'Active',
  'Expiring',
  'Renewed',
  'Expired',
  'Suspended',
  'Revoked',
] as const;
export type CertificationStatus = (typeof certificationStatuses)[number];

export const certificationEventTypes = [
  'certification.applied',
  'certification.review.started',
  'certification.approved',
  'certification.rejected',
  'certification.issued',
  'certification.activated',
  'certification.expiring_soon',
  'certification.renewed',
  'certification.expired',
  'certification.suspended',
  'certification.reactivated',
  'certification.revoked',
] as const;
export type CertificationEventType = (typeof certificationEventTypes)[number];
export type CertificationEvent = { [T in CertificationEventType]: { type: T; payload: EventPayload<T> } }[CertificationEventType];

type TransitionTable = { readonly [S in CertificationStatus]: { readonly [E in CertificationEventType]?: CertificationStatus } };

/**
 * The seed's diagram, edge for edge (plus `[*] --> Applied`, which `decide` handles as creation).
 * The mapped type makes a forgotten state a compile error; an empty row is a final state.
 */
export const transitions = {
  Applied: { 'certification.review.started': 'UnderReview' },
  UnderReview: { 'certification.approved': 'Approved', 'certification.rejected': 'Rejected' },
  Approved: { 'certification.issued': 'Issued' },
  Rejected: {},
  Issued: { 'certification.activated': 'Active' },
  Active: { 'certification.expiring_soon': 'Expiring', 'certification.suspended': 'Suspended' },
  Expiring: { 'certification.renewed': 'Renewed', 'certification.expired': 'Expired' },
  Renewed: { 'certification.activated': 'Active' },
  Expired: {},
  Suspended: { 'certification.reactivated': 'Active', 'certification.revoked': 'Revoked' },
  Revoked: {},
} as const satisfies TransitionTable;

/** Final states: nothing leaves them. A switch, so a new state must be classified to compile. */
export function isFinal(status: CertificationStatus): boolean {
  switch (status) {
    case 'Rejected':
    case 'Expired':
    case 'Revoked':
      return true;
    case 'Applied':
    case 'UnderReview':
    case 'Approved':
    case 'Issued':
    case 'Active':
    case 'Expiring':
    case 'Renewed':
    case 'Suspended':
      return false;
    default: {
      const unhandled: never = status;
      return unhandled;
    }
  }
}

/** The state an event leads to from `status`, or undefined when the diagram has no such edge. */
export function nextStatus(status: CertificationStatus, eventType: CertificationEventType): CertificationStatus | undefined {
  const row: { readonly [E in CertificationEventType]?: CertificationStatus } = transitions[status];
  return row[eventType];
}

/** The events allowed from `status`, in the diagram's order. */
export function allowedEvents(status: CertificationStatus): CertificationEventType[] {
  return certificationEventTypes.filter((e) => nextStatus(status, e) !== undefined);
}

export interface CertificationDocument {
  readonly name: string;
  readonly url: string;
}

export interface CertificationData {
  readonly id: string;
  readonly applicantId: string;
  readonly certType: string;
  readonly documents: readonly CertificationDocument[];
  readonly certNumber: string | null;
  readonly issueDate: string | null;
  readonly expiryDate: string | null;
  /** Reason of the last rejection, suspension or revocation. */
  readonly reason: string | null;
  readonly renewals: number;
  readonly appliedAt: string;
  readonly updatedAt: string;
}

export type CertificationState = { readonly status: 'absent' } | (CertificationData & { readonly status: CertificationStatus });
export type ExistingCertification = Extract<CertificationState, { status: CertificationStatus }>;

export const initialCertificationState: CertificationState = { status: 'absent' };

export type CertificationCommand =
  | {
      readonly kind: 'apply';
      readonly certificationId: string;
      readonly applicantId: string;
      readonly certType: string;
      readonly documents: readonly CertificationDocument[];
    }
  | { readonly kind: 'startReview' }
  | { readonly kind: 'approve' }
  | { readonly kind: 'reject'; readonly reason: string }
  | { readonly kind: 'issue'; readonly certNumber: string }
  | { readonly kind: 'activate' }
  | { readonly kind: 'markExpiringSoon' }
  | { readonly kind: 'renew' }
  | { readonly kind: 'expire' }
  | { readonly kind: 'suspend'; readonly reason: string }
  | { readonly kind: 'reactivate' }
  | { readonly kind: 'revoke'; readonly reason: string };
export type CertificationCommandKind = CertificationCommand['kind'];

/** The one event each command asks for. */
export const commandEvent = {
  apply: 'certification.applied',
  startReview: 'certification.review.started',
  approve: 'certification.approved',
  reject: 'certification.rejected',
  issue: 'certification.issued',
  activate: 'certification.activated',
  markExpiringSoon: 'certification.expiring_soon',
  renew: 'certification.renewed',
  expire: 'certification.expired',
  suspend: 'certification.suspended',
  reactivate: 'certification.reactivated',
  revoke: 'certification.revoked',
} as const satisfies { readonly [K in CertificationCommandKind]: CertificationEventType };

/** A limit the event contract sets; a contract without it is a programming error, found at start-up. */
function limitOf(value: number | null | undefined, what: string): number {
  if (typeof value !== 'number') throw new Error(`The certification event contract sets no ${what}.`);
  return value;
}
const applied = certificationEvents['certification.applied'].schema.shape;
const appliedDocument = applied.documents.element.shape;

/** Command limits, read from the event contracts the commands' events must meet. */
export const limits = {
  /** Certification and applicant ids. */
  id: Math.min(limitOf(applied.certificationId.maxLength, 'certification id length'), limitOf(applied.applicantId.maxLength, 'applicant id length')),
  reason: limitOf(certificationEvents['certification.rejected'].schema.shape.reason.maxLength, 'reason length'),
  documents: limitOf(z.toJSONSchema(applied.documents).maxItems, 'document count'),
  documentName: limitOf(appliedDocument.name.maxLength, 'document name length'),
  url: limitOf(appliedDocument.url.maxLength, 'document url length'),
} as const;
const certNumberSchema = certificationEvents['certification.issued'].schema.shape.certNumber;
const DAY_MS = 24 * 60 * 60 * 1000;

export function addMonths(fromIso: string, months: number): string {
  const date = new Date(fromIso);
  date.setUTCMonth(date.getUTCMonth() + months);
  return date.toISOString();
}

/** When a certification with this expiry date enters its type's expiring-soon window. */
export function expiringSoonAt(expiryDate: string, type: CertificationType): string {
  return new Date(new Date(expiryDate).getTime() - type.expiringSoonDays * DAY_MS).toISOString();
}

export function requireCertificationType(code: string): CertificationType {
  const type = findCertificationType(code);
  if (!type) {
    const known = certificationTypes.map((t) => t.code).join(', ');
    throw new ValidationError(`certType ${code} is not a certification type (known: ${known}).`, { field: 'certType' });
  }
  return type;
}

function validReason(reason: string): string {
  const trimmed = reason.trim();
  const unsafe = unsafeCharacterIn(trimmed);
  if (unsafe) throw new ValidationError(`reason may not contain ${unsafe}.`, { field: 'reason' });
  if (trimmed === '' || trimmed.length > limits.reason) {
    throw new ValidationError(`reason must be 1 to ${limits.reason} characters.`, { field: 'reason' });
  }
  return trimmed;
}

function validDocuments(documents: readonly CertificationDocument[]): CertificationDocument[] {
  if (documents.length === 0 || documents.length > limits.documents) {
    throw new ValidationError(`documents must hold 1 to ${limits.documents} documents.`, { field: 'documents' });
  }
  return documents.map((d, i) => {
    const name = d.name.trim();
    if (name === '' || name.length > limits.documentName) {
      throw new ValidationError(`documents[${i}].name must be 1 to ${limits.documentName} characters.`, { field: 'documents' });
    }
    const unsafe = unsafeCharacterIn(name);
    if (unsafe) throw new ValidationError(`documents[${i}].name may not contain ${unsafe}.`, { field: 'documents' });
    let url: URL | null = null;
    try {
      url = d.url.length <= limits.url ? new URL(d.url) : null;
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new ValidationError(`documents[${i}].url must be an http(s) URL.`, { field: 'documents' });
    }
    return { name, url: d.url };
  });
}

/** Refuse a transition the diagram does not draw, naming the state and what it allows. */
function refuse(state: ExistingCertification, eventType: CertificationEventType): never {
  const allowed = allowedEvents(state.status);
  const options = allowed.map((e) => `${e} (-> ${nextStatus(state.status, e)})`).join(', ');
  const tail = allowed.length === 0 ? `${state.status} is a final state: no transition is allowed.` : `From ${state.status} the allowed transitions are: ${options}.`;
  throw new IllegalStateError(`Certification ${state.id} is ${state.status}: ${eventType} is not allowed. ${tail}`, {
    certificationId: state.id,
    currentState: state.status,
    attempted: eventType,
    allowedTransitions: allowed,
  });
}

/** Decide the event a command causes, or refuse it with a coded error. Pure: time comes in as `now`. */
export function decide(command: CertificationCommand, state: CertificationState, now: Date): CertificationEvent[] {
  if (command.kind === 'apply') {
    if (state.status !== 'absent') {
      throw new DomainError('CONFLICT', `Certification ${command.certificationId} already exists.`, { field: 'id' });
    }
    const type = requireCertificationType(command.certType);
    return [
      {
        type: 'certification.applied',
        payload: {
          certificationId: command.certificationId,
          applicantId: command.applicantId,
          certType: type.code,
          documents: validDocuments(command.documents),
        },
      },
    ];
  }
  if (state.status === 'absent') throw new NotFoundError('No such certification.');
  const eventType = commandEvent[command.kind];
  if (nextStatus(state.status, eventType) === undefined) refuse(state, eventType);
  const ids = { certificationId: state.id, applicantId: state.applicantId };
  switch (command.kind) {
    case 'startReview':
      return [{ type: 'certification.review.started', payload: ids }];
    case 'approve':
      return [{ type: 'certification.approved', payload: ids }];
    case 'reject':
      return [{ type: 'certification.rejected', payload: { ...ids, reason: validReason(command.reason) } }];
    case 'issue': {
      if (!certNumberSchema.safeParse(command.certNumber).success) {
        throw new ValidationError('certNumber must look like CPA-2025-000123.', { field: 'certNumber' });
      }
      const type = requireCertificationType(state.certType);
      const issueDate = now.toISOString();
      return [
        {
          type: 'certification.issued',
          payload: { ...ids, certNumber: command.certNumber, issueDate, expiryDate: addMonths(issueDate, type.validityMonths) },
        },
      ];
    }
    case 'activate':
      return [{ type: 'certification.activated', payload: ids }];
    case 'markExpiringSoon': {
      const expiryDate = requireExpiry(state);
      const due = expiringSoonAt(expiryDate, requireCertificationType(state.certType));
      if (now.getTime() < new Date(due).getTime()) {
        throw new IllegalStateError(`Certification ${state.id} is not expiring soon before ${due}.`, { currentState: state.status, dueAt: due });
      }
      return [{ type: 'certification.expiring_soon', payload: { ...ids, expiryDate } }];
    }
    case 'renew': {
      const type = requireCertificationType(state.certType);
      const expiryDate = requireExpiry(state);
      return [
        {
          type: 'certification.renewed',
          payload: { ...ids, newExpiryDate: addMonths(expiryDate, type.validityMonths), renewalFee: type.renewalFeeCents },
        },
      ];
    }
    case 'expire': {
      const expiryDate = requireExpiry(state);
      if (now.getTime() < new Date(expiryDate).getTime()) {
        throw new IllegalStateError(`Certification ${state.id} does not expire before ${expiryDate}.`, { currentState: state.status, dueAt: expiryDate });
      }
      return [{ type: 'certification.expired', payload: { ...ids, expiryDate } }];
    }
    case 'suspend':
      return [{ type: 'certification.suspended', payload: { ...ids, reason: validReason(command.reason) } }];
    case 'reactivate':
      return [{ type: 'certification.reactivated', payload: ids }];
    case 'revoke':
      return [{ type: 'certification.revoked', payload: { ...ids, reason: validReason(command.reason) } }];
    default: {
      const unhandled: never = command;
      return unhandled;
    }
  }
}

function requireExpiry(state: ExistingCertification): string {
  // Every state past Issued has one; a missing one means a corrupt stream, not bad input.
  if (state.expiryDate === null) throw new Error(`Certification ${state.id} has no expiry date in state ${state.status}.`);
  return state.expiryDate;
}

type Timed = CertificationEvent & { readonly occurredAt: string };

/** Fold one event into the state. Events are facts: an edge the diagram lacks leaves the status as is. */
export function evolve(state: CertificationState, event: EventEnvelope<CertificationEventType> | Timed): CertificationState {
  const e = event as Timed;
  if (e.type === 'certification.applied') {
    return {
      status: 'Applied',
      id: e.payload.certificationId,
      applicantId: e.payload.applicantId,
      certType: e.payload.certType,
      documents: e.payload.documents,
      certNumber: null,
      issueDate: null,
      expiryDate: null,
      reason: null,
      renewals: 0,
      appliedAt: e.occurredAt,
      updatedAt: e.occurredAt,
    };
  }
  if (state.status === 'absent') return state;
  const moved = { ...state, status: nextStatus(state.status, e.type) ?? state.status, updatedAt: e.occurredAt };
  switch (e.type) {
    case 'certification.review.started':
    case 'certification.approved':
    case 'certification.activated':
    case 'certification.expiring_soon':
    case 'certification.expired':
      return moved;
    case 'certification.reactivated':
      return { ...moved, reason: null };
    case 'certification.rejected':
    case 'certification.suspended':
    case 'certification.revoked':
      return { ...moved, reason: e.payload.reason };
    case 'certification.issued':
      return { ...moved, certNumber: e.payload.certNumber, issueDate: e.payload.issueDate, expiryDate: e.payload.expiryDate };
    case 'certification.renewed':
      return { ...moved, expiryDate: e.payload.newExpiryDate, renewals: state.renewals + 1 };
    default: {
      const unhandled: never = e;
      return unhandled;
    }
  }
}

export function certificationStreamId(certificationId: string): string {
  return `certification-${certificationId}`;
}

const eventTypeSet: ReadonlySet<string> = new Set(certificationEventTypes);

export function isCertificationEvent(event: { type: string }): event is EventEnvelope<CertificationEventType> {
  return eventTypeSet.has(event.type);
}

/** The decider as the command handler runs it. */
export const certificationDecider = {
  initialState: initialCertificationState,
  decide,
  evolve,
  eventTypes: certificationEventTypes,
  snapshotSchemaVersion: 1,
} satisfies Decider<CertificationCommand, CertificationState, CertificationEvent>;
