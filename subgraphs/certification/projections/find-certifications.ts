// Queries over the certification read model: by applicant and status, optionally only those
// expiring before a date, soonest expiry first (not yet issued ones, without a date, come first).
import type { DocumentCollection, Where } from '../../../messaging/state/document-store';
import type { CertificationStatus } from '../domain/certification';
import type { CertificationDoc } from './certification-read-model';

export interface CertificationFilter {
  readonly applicantId: string | null;
  readonly status: CertificationStatus | null;
  /** Only certifications with an expiry date strictly before this instant (ISO-8601). */
  readonly expiringBefore: string | null;
}

/** The filter as a read-model query: a range on the expiry date, which is also the sort key. */
export function certificationQuery(filter: CertificationFilter): {
  readonly where: Where<CertificationDoc>;
  readonly orderBy: { readonly field: 'expiryDate'; readonly direction: 'asc' };
} {
  return {
    where: {
      ...(filter.applicantId !== null ? { applicantId: filter.applicantId } : {}),
      ...(filter.status !== null ? { status: filter.status } : {}),
      // Dates are stored as ISO-8601 UTC strings, which sort as the instants do.
      ...(filter.expiringBefore !== null ? { expiryDate: { lt: new Date(filter.expiringBefore).toISOString() } } : {}),
    },
    orderBy: { field: 'expiryDate', direction: 'asc' },
  };
}

export function findCertifications(
  collection: DocumentCollection<CertificationDoc>,
  filter: CertificationFilter & { readonly limit: number },
): Promise<CertificationDoc[]> {
  return collection.find({ ...certificationQuery(filter), limit: filter.limit });
}
