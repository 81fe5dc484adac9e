// Maps domain states and read model documents to the GraphQL Certification.
import type { ExistingCertification } from '../domain/certification';
import type { CertificationDoc } from '../projections/certification-read-model';
import { expiringSoonAt } from '../domain/certification';
import { findCertificationType } from '../domain/certification-types';
import { Certification, CertificationStatus } from './certification.type';

const date = (iso: string | null): Date | null => (iso === null ? null : new Date(iso));

export function certificationFromState(state: ExistingCertification, version: number): Certification {
  const type = findCertificationType(state.certType);
  return Object.assign(new Certification(), {
    id: state.id,
    memberId: state.applicantId,
    certType: state.certType,
    status: state.status as CertificationStatus,
    documents: state.documents.map((d) => ({ ...d })),
    certNumber: state.certNumber,
    issueDate: date(state.issueDate),
    expiryDate: date(state.expiryDate),
    expiringSoonAt: state.expiryDate && type ? new Date(expiringSoonAt(state.expiryDate, type)) : null,
    reason: state.reason,
    renewals: state.renewals,
    appliedAt: new Date(state.appliedAt),
    updatedAt: new Date(state.updatedAt),
    version,
  });
}

export function certificationFromDoc(doc: CertificationDoc): Certification {
  const { version, expiringSoonAt: _soon, ...state } = doc;
  return certificationFromState(state, version);
}
