// Queries over the certification read model: by applicant and status, optionally only those
// expiring before a date (ordered by expiry date, so the scan stops at the first later one).
import type { DocumentCollection, Where } from '../../../messaging/state/document-store';
import { cursorOf } from '../../../messaging/state/document-store';
import type { CertificationStatus } from '../domain/certification';
import type { CertificationDoc } from './certification-read-model';

export interface CertificationFilter {
  readonly applicantId: string | null;
  readonly status: CertificationStatus | null;
  /** Only certifications with an expiry date strictly before this instant (ISO-8601). */
  readonly expiringBefore: string | null;
  readonly limit: number;
}

const PAGE = 200;

export async function findCertifications(collection: DocumentCollection<CertificationDoc>, filter: CertificationFilter): Promise<CertificationDoc[]> {
  const where: Where<CertificationDoc> = {
    ...(filter.applicantId !== null ? { applicantId: filter.applicantId } : {}),
    ...(filter.status !== null ? { status: filter.status } : {}),
  };
  const orderBy = { field: 'expiryDate' as const, direction: 'asc' as const };
  if (filter.expiringBefore === null) return collection.find({ where, orderBy, limit: filter.limit });
  const before = new Date(filter.expiringBefore).getTime();
  const out: CertificationDoc[] = [];
  let after: ReturnType<typeof cursorOf> | undefined;
  for (;;) {
    const page = await collection.find({ where, orderBy, limit: PAGE, ...(after ? { after } : {}) });
    for (const doc of page) {
      // Null expiry dates (not yet issued) sort first; skip them, stop at the first too late.
      if (doc.expiryDate === null) continue;
      if (new Date(doc.expiryDate).getTime() >= before) return out;
      out.push(doc);
      if (out.length >= filter.limit) return out;
    }
    const last = page[page.length - 1];
    if (!last || page.length < PAGE) return out;
    after = cursorOf(last, 'expiryDate');
  }
}
