// The catalogue of certification types: how long a certificate is valid, what renewing costs,
// and how early before expiry it counts as "expiring soon".

export interface CertificationType {
  readonly code: string;
  readonly name: string;
  readonly validityMonths: number;
  readonly renewalFeeCents: number;
  readonly expiringSoonDays: number;
}

export const certificationTypes: readonly CertificationType[] = [
  { code: 'CPA', name: 'Certified Practising Accountant', validityMonths: 36, renewalFeeCents: 15000, expiringSoonDays: 60 },
  { code: 'CIA', name: 'Certified Internal Auditor', validityMonths: 24, renewalFeeCents: 12000, expiringSoonDays: 45 },
  { code: 'CFE', name: 'Certified Fraud Examiner', validityMonths: 12, renewalFeeCents: 9000, expiringSoonDays: 30 },
];

export function findCertificationType(code: string): CertificationType | undefined {
  return certificationTypes.find((t) => t.code === code);
}
