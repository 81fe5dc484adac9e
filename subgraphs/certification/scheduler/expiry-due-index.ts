// The expiry scheduler's own due index: per certification, the next thing the clock will do to it
// (enter the expiring-soon window when Active, expire when Expiring) and when. Durable, so the
// scheduler finds everything that came due while it was down; monotonic per stream version.
import type { AnyEventEnvelope } from '../../../messaging/events/envelope';
import type { DocumentCollection, DocumentStore } from '../../../messaging/state/document-store';
import { expiringSoonAt, isCertificationEvent, nextStatus, type CertificationStatus } from '../domain/certification';
import { findCertificationType } from '../domain/certification-types';

export type DueKind = 'expiring_soon' | 'expired' | 'none';

export interface DueDoc {
  readonly id: string;
  readonly status: CertificationStatus;
  readonly certType: string;
  readonly expiryDate: string | null;
  readonly dueKind: DueKind;
  /** When `dueKind` comes due (ISO-8601); null when nothing is scheduled. */
  readonly dueAt: string | null;
  readonly version: number;
}

export function dueIndexCollection(documents: DocumentStore, name = 'certification_expiry_due'): DocumentCollection<DueDoc> {
  return documents.collection<DueDoc>(name, { indexes: ['dueKind', 'dueAt'] });
}

function dueOf(status: CertificationStatus, certType: string, expiryDate: string | null): Pick<DueDoc, 'dueKind' | 'dueAt'> {
  const type = findCertificationType(certType);
  if (status === 'Active' && expiryDate && type) return { dueKind: 'expiring_soon', dueAt: expiringSoonAt(expiryDate, type) };
  if (status === 'Expiring' && expiryDate) return { dueKind: 'expired', dueAt: expiryDate };
  return { dueKind: 'none', dueAt: null };
}

/** Apply one event to a due document; null when it changes nothing. */
export function applyToDueDoc(doc: DueDoc | null, event: AnyEventEnvelope): DueDoc | null {
  if (!isCertificationEvent(event)) return null;
  if (doc && doc.version >= event.streamVersion) return null;
  let status: CertificationStatus;
  let certType: string;
  let expiryDate: string | null;
  if (event.type === 'certification.applied') {
    const payload = event.payload as { certType: string };
    [status, certType, expiryDate] = ['Applied', payload.certType, null];
  } else {
    if (!doc) return null;
    status = nextStatus(doc.status, event.type) ?? doc.status;
    certType = doc.certType;
    const payload = event.payload as { expiryDate?: string; newExpiryDate?: string };
    expiryDate =
      event.type === 'certification.issued' ? (payload.expiryDate ?? null) : event.type === 'certification.renewed' ? (payload.newExpiryDate ?? null) : doc.expiryDate;
  }
  return { id: event.payload.certificationId, status, certType, expiryDate, ...dueOf(status, certType, expiryDate), version: event.streamVersion };
}

export function dueIndexProjection(due: DocumentCollection<DueDoc>) {
  return async (batch: readonly AnyEventEnvelope[]): Promise<void> => {
    for (const event of batch) {
      if (!isCertificationEvent(event)) continue;
      await due.update(event.payload.certificationId, (current) => applyToDueDoc(current, event));
    }
  };
}
