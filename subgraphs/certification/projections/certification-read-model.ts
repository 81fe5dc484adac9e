// The certification read model: one document per certification in `certifications`, folded from
// the lifecycle events with the aggregate's own `evolve`. Monotonic per certification (a document
// only moves forward in stream version), so replays and several instances running it are harmless.
import type { AnyEventEnvelope } from '../../../messaging/events/envelope';
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import {
  certificationEventTypes,
  evolve,
  expiringSoonAt,
  isCertificationEvent,
  type CertificationDocument,
  type CertificationState,
  type CertificationStatus,
} from '../domain/certification';
import { findCertificationType } from '../domain/certification-types';

export interface CertificationDoc {
  readonly id: string;
  readonly applicantId: string;
  readonly certType: string;
  readonly status: CertificationStatus;
  readonly documents: readonly CertificationDocument[];
  readonly certNumber: string | null;
  readonly issueDate: string | null;
  readonly expiryDate: string | null;
  /** When it enters its type's expiring-soon window (null before issue). */
  readonly expiringSoonAt: string | null;
  readonly reason: string | null;
  readonly renewals: number;
  readonly appliedAt: string;
  readonly updatedAt: string;
  /** Stream version the document reflects. */
  readonly version: number;
}

export const certificationReadModelTypes = certificationEventTypes;

export function certificationsCollection(documents: DocumentStore, name = 'certifications'): DocumentCollection<CertificationDoc> {
  return documents.collection<CertificationDoc>(name, { indexes: ['applicantId', 'status', 'expiryDate'] });
}

export function toCertificationState(doc: CertificationDoc | null): CertificationState {
  if (!doc) return { status: 'absent' };
  const { version: _version, expiringSoonAt: _soon, ...data } = doc;
  return data;
}

/** Apply one event to a certification document; null when the event changes nothing. */
export function applyToCertificationDoc(doc: CertificationDoc | null, event: AnyEventEnvelope): CertificationDoc | null {
  if (!isCertificationEvent(event)) return null;
  if (doc && doc.version >= event.streamVersion) return null;
  const state = evolve(toCertificationState(doc), event);
  if (state.status === 'absent') return null;
  const type = findCertificationType(state.certType);
  return {
    ...state,
    expiringSoonAt: state.expiryDate && type ? expiringSoonAt(state.expiryDate, type) : null,
    version: event.streamVersion,
  };
}

/** The projection's batch handler, for a StoreFollower over the certification event types. */
export function certificationReadModelProjection(certifications: DocumentCollection<CertificationDoc>) {
  return async (batch: readonly AnyEventEnvelope[]): Promise<void> => {
    for (const event of batch) {
      if (!isCertificationEvent(event)) continue;
      await certifications.update(event.payload.certificationId, (current) => applyToCertificationDoc(current, event));
    }
  };
}
