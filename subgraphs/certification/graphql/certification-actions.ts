// What a caller can do next with a certification, in the API's words: the target states (the
// schema's CertificationStatus values) and the mutation that moves it there. The decider speaks in
// event types and its own state names; this is where those become what a frontend can act on,
// for `Certification.allowedTransitions`/`allowedMutations` and for INVALID_TRANSITION errors.
import type { Identity } from '../../../platform/auth';
import { IllegalStateError } from '../../../platform/errors';
import {
  allowedEvents,
  certificationStatuses,
  nextStatus,
  type CertificationEventType,
  type CertificationStatus as DomainStatus,
} from '../domain/certification';
import { CertificationStatus } from './certification.type';

type Caller = 'admin' | 'applicant';

/**
 * The mutation behind each event and who may call it; null for events no caller asks for: the
 * application creates the certification, and the expiry scheduler marks it expiring and expired.
 */
export const transitionMutations = {
  'certification.applied': null,
  'certification.review.started': { mutation: 'startCertificationReview', by: 'admin' },
  'certification.approved': { mutation: 'approveCertification', by: 'admin' },
  'certification.rejected': { mutation: 'rejectCertification', by: 'admin' },
  'certification.issued': { mutation: 'issueCertification', by: 'admin' },
  'certification.activated': { mutation: 'activateCertification', by: 'admin' },
  'certification.expiring_soon': null,
  'certification.renewed': { mutation: 'renewCertification', by: 'applicant' },
  'certification.expired': null,
  'certification.suspended': { mutation: 'suspendCertification', by: 'admin' },
  'certification.reactivated': { mutation: 'reactivateCertification', by: 'admin' },
  'certification.revoked': { mutation: 'revokeCertification', by: 'admin' },
} as const satisfies { readonly [E in CertificationEventType]: { readonly mutation: string; readonly by: Caller } | null };

/** The schema's name of a status (UNDER_REVIEW for the decider's UnderReview). */
const apiNames = new Map<string, string>(Object.entries(CertificationStatus).map(([name, value]) => [value, name]));

export function apiStatusName(status: DomainStatus): string {
  return apiNames.get(status) ?? status;
}

export interface CertificationAction {
  /** The status it moves to (the enum's internal value: serialised as the schema's name). */
  readonly toState: CertificationStatus;
  readonly mutation: string;
}

/** May `identity` call a mutation of this kind (admins call everything; applicants renew their own)? */
function mayCall(by: Caller, identity: Identity | null, applicantId: string): boolean {
  if (!identity) return false;
  return identity.role === 'admin' || (by === 'applicant' && identity.sub === applicantId);
}

/** What `identity` may do from `status`, in the diagram's order. */
export function actionsFrom(status: DomainStatus, applicantId: string, identity: Identity | null): CertificationAction[] {
  return allowedEvents(status).flatMap((event) => {
    const call = transitionMutations[event];
    const to = nextStatus(status, event);
    if (!call || !to || !mayCall(call.by, identity, applicantId)) return [];
    return [{ toState: to as CertificationStatus, mutation: call.mutation }];
  });
}

const isDomainStatus = (value: unknown): value is DomainStatus => (certificationStatuses as readonly unknown[]).includes(value);

/**
 * The decider's refusal of a transition, retold in the schema's terms: the current state as the
 * schema names it, the mutation that was refused, and what the caller may do instead.
 */
export function toApiTransitionError(error: unknown, applicantId: string | null, identity: Identity | null): unknown {
  if (!(error instanceof IllegalStateError)) return error;
  const { certificationId, currentState, attempted } = error.details as { certificationId?: unknown; currentState?: unknown; attempted?: unknown };
  if (!isDomainStatus(currentState)) return error;
  const actions = actionsFrom(currentState, applicantId ?? '', identity);
  const current = apiStatusName(currentState);
  const refused =
    typeof attempted === 'string' && attempted in transitionMutations
      ? (transitionMutations[attempted as CertificationEventType]?.mutation ?? attempted)
      : 'this transition';
  const options = actions.map((a) => `${a.mutation} (-> ${apiStatusName(a.toState as unknown as DomainStatus)})`).join(', ');
  const tail =
    actions.length > 0
      ? `From ${current} you may call: ${options}.`
      : allowedEvents(currentState).length === 0
        ? `${current} is a final state: nothing can change it.`
        : `From ${current} there is nothing you may call.`;
  const subject = typeof certificationId === 'string' ? `Certification ${certificationId}` : 'The certification';
  return new IllegalStateError(`${subject} is ${current}: ${refused} is not allowed. ${tail}`, {
    ...(typeof certificationId === 'string' ? { certificationId } : {}),
    currentState: current,
    attempted: refused,
    allowedTransitions: actions.map((a) => apiStatusName(a.toState as unknown as DomainStatus)),
    allowedMutations: actions.map((a) => a.mutation),
  });
}
