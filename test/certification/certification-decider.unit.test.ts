import fc from 'fast-check';
import {
  allowedEvents,
  certificationStatuses,
  commandEvent,
  decide,
  evolve,
  initialCertificationState,
  isFinal,
  nextStatus,
  transitions,
  type CertificationCommand,
  type CertificationCommandKind,
  type CertificationEvent,
  type CertificationState,
  type CertificationStatus,
  type ExistingCertification,
} from '../../subgraphs/certification/domain/certification';

const appliedAt = '2025-01-15T00:00:00.000Z';
const issuedAt = new Date('2025-02-01T00:00:00.000Z');
/** Far enough after issue that the scheduler's time guards pass (CPA: 36 months). */
const late = new Date('2030-01-01T00:00:00.000Z');
const documents = [{ name: 'Transcript', url: 'https://files.example.org/t.pdf' }];

const commands: { readonly [K in CertificationCommandKind]: Extract<CertificationCommand, { kind: K }> } = {
  apply: { kind: 'apply', certificationId: 'c1', applicantId: 'm1', certType: 'CPA', documents },
  startReview: { kind: 'startReview' },
  approve: { kind: 'approve' },
  reject: { kind: 'reject', reason: 'Incomplete transcript' },
  issue: { kind: 'issue', certNumber: 'CPA-2025-000001' },
  activate: { kind: 'activate' },
  markExpiringSoon: { kind: 'markExpiringSoon' },
  renew: { kind: 'renew' },
  expire: { kind: 'expire' },
  suspend: { kind: 'suspend', reason: 'Complaint under investigation' },
  reactivate: { kind: 'reactivate' },
  revoke: { kind: 'revoke', reason: 'Misconduct' },
};
const transitionKinds = (Object.keys(commands) as CertificationCommandKind[]).filter((k) => k !== 'apply');

function at(state: CertificationState, events: CertificationEvent[], occurredAt: string): CertificationState {
  return events.reduce((s, e) => evolve(s, { ...e, occurredAt }), state);
}

/** A certification in `status`, with an issue and expiry date so every guard has what it needs. */
function stateIn(status: CertificationStatus): ExistingCertification {
  return {
    status,
    id: 'c1',
    applicantId: 'm1',
    certType: 'CPA',
    documents,
    certNumber: 'CPA-2025-000001',
    issueDate: issuedAt.toISOString(),
    expiryDate: '2028-02-01T00:00:00.000Z',
    reason: null,
    renewals: 0,
    appliedAt,
    updatedAt: appliedAt,
  };
}

const table = certificationStatuses.flatMap((status) =>
  transitionKinds.map((kind) => ({ status, kind, to: nextStatus(status, commandEvent[kind]) })),
);
const allowed = table.filter((row) => row.to !== undefined);
const disallowed = table.filter((row) => row.to === undefined);

describe('certification state machine', () => {
  it('draws exactly the seed diagram (13 edges with [*] --> Applied)', () => {
    expect(allowed.map((r) => `${r.status} --${commandEvent[r.kind]}--> ${r.to}`).sort()).toEqual(
      [
        'Applied --certification.review.started--> UnderReview',
        'UnderReview --certification.approved--> Approved',
        'UnderReview --certification.rejected--> Rejected',
        'Approved --certification.issued--> Issued',
        'Issued --certification.activated--> Active',
        'Active --certification.expiring_soon--> Expiring',
        'Expiring --certification.renewed--> Renewed',
        'Expiring --certification.expired--> Expired',
        'Active --certification.suspended--> Suspended',
        'Suspended --certification.reactivated--> Active',
        'Suspended --certification.revoked--> Revoked',
        'Renewed --certification.activated--> Active',
      ].sort(),
    );
    expect(certificationStatuses.filter(isFinal)).toEqual(['Rejected', 'Expired', 'Revoked']);
    for (const status of certificationStatuses) expect(isFinal(status)).toBe(Object.keys(transitions[status]).length === 0);
  });

  it('starts a certification with certification.applied', () => {
    const events = decide(commands.apply, initialCertificationState, issuedAt);
    expect(events).toEqual([
      { type: 'certification.applied', payload: { certificationId: 'c1', applicantId: 'm1', certType: 'CPA', documents } },
    ]);
    expect(at(initialCertificationState, events, appliedAt)).toMatchObject({ status: 'Applied', applicantId: 'm1', certType: 'CPA' });
  });

  it.each(allowed)('allows $kind from $status, leading to $to', ({ status, kind, to }) => {
    const state = stateIn(status);
    const events = decide(commands[kind], state, late);
    expect(events.map((e) => e.type)).toEqual([commandEvent[kind]]);
    expect(at(state, events, late.toISOString())).toMatchObject({ status: to });
  });

  it.each(disallowed)('refuses $kind from $status with INVALID_TRANSITION naming the state and the allowed ones', ({ status, kind }) => {
    let error: unknown;
    try {
      decide(commands[kind], stateIn(status), late);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'INVALID_TRANSITION',
      details: { currentState: status, attempted: commandEvent[kind], allowedTransitions: allowedEvents(status) },
    });
    expect((error as Error).message).toContain(status);
    for (const e of allowedEvents(status)) expect((error as Error).message).toContain(e);
  });

  it('refuses to apply twice, and any transition of an unknown certification', () => {
    expect(() => decide(commands.apply, stateIn('Applied'), late)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    for (const kind of transitionKinds) {
      expect(() => decide(commands[kind], initialCertificationState, late)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    }
  });

  it('issues with the type validity: issue date now, expiry 36 months later for CPA', () => {
    const [event] = decide(commands.issue, stateIn('Approved'), issuedAt);
    expect(event).toEqual({
      type: 'certification.issued',
      payload: {
        certificationId: 'c1',
        applicantId: 'm1',
        certNumber: 'CPA-2025-000001',
        issueDate: '2025-02-01T00:00:00.000Z',
        expiryDate: '2028-02-01T00:00:00.000Z',
      },
    });
  });

  it('renews from the current expiry date with the catalogue fee, then activates', () => {
    const expiring = stateIn('Expiring');
    const events = decide(commands.renew, expiring, new Date('2028-01-01T00:00:00.000Z'));
    expect(events).toEqual([
      {
        type: 'certification.renewed',
        payload: { certificationId: 'c1', applicantId: 'm1', newExpiryDate: '2031-02-01T00:00:00.000Z', renewalFee: 15000 },
      },
    ]);
    const renewed = at(expiring, events, '2028-01-01T00:00:00.000Z');
    expect(renewed).toMatchObject({ status: 'Renewed', expiryDate: '2031-02-01T00:00:00.000Z', renewals: 1 });
    expect(at(renewed, decide(commands.activate, renewed, late), late.toISOString())).toMatchObject({ status: 'Active' });
  });

  it('refuses expiring_soon before the window (60 days for CPA) and expiry before the expiry date', () => {
    const justBefore = new Date('2027-12-02T23:59:59.999Z');
    expect(() => decide(commands.markExpiringSoon, stateIn('Active'), justBefore)).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION', details: expect.objectContaining({ dueAt: '2027-12-03T00:00:00.000Z' }) }),
    );
    expect(decide(commands.markExpiringSoon, stateIn('Active'), new Date('2027-12-03T00:00:00.000Z'))).toHaveLength(1);
    expect(() => decide(commands.expire, stateIn('Expiring'), new Date('2028-01-31T00:00:00.000Z'))).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION' }),
    );
    expect(decide(commands.expire, stateIn('Expiring'), new Date('2028-02-01T00:00:00.000Z'))).toHaveLength(1);
  });

  it.each([
    [{ ...commands.apply, certType: 'XYZ' }, 'certType'],
    [{ ...commands.apply, documents: [] }, 'documents'],
    [{ ...commands.apply, documents: [{ name: 'x', url: 'ftp://example.org/x' }] }, 'documents'],
    [{ ...commands.apply, documents: [{ name: ' ', url: 'https://example.org/x' }] }, 'documents'],
  ] as [CertificationCommand, string][])('refuses bad application input naming the field (%#)', (command, field) => {
    expect(() => decide(command, initialCertificationState, late)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field } }));
  });

  it.each([
    ['a blank rejection reason', { kind: 'reject', reason: '  ' }, 'UnderReview', 'reason'],
    ['a too long suspension reason', { kind: 'suspend', reason: 'x'.repeat(501) }, 'Active', 'reason'],
    ['an empty revocation reason', { kind: 'revoke', reason: '' }, 'Suspended', 'reason'],
    ['a malformed certificate number', { kind: 'issue', certNumber: 'cpa-1' }, 'Approved', 'certNumber'],
  ] as [string, CertificationCommand, CertificationStatus, string][])('refuses %s naming the field', (_label, command, status, field) => {
    expect(() => decide(command, stateIn(status), late)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field } }));
  });
});

describe('certification state machine, as a model (fast-check)', () => {
  const anyKind = fc.constantFrom(...transitionKinds);
  /** Commands with time moving forward by up to ~2 years between them. */
  const steps = fc.array(fc.record({ kind: anyKind, days: fc.integer({ min: 0, max: 800 }) }), { maxLength: 60 });

  it('never reaches an undefined state, refuses exactly the undrawn edges, and final states stay final', () => {
    fc.assert(
      fc.property(steps, (sequence) => {
        let now = new Date(appliedAt);
        let state = at(initialCertificationState, decide(commands.apply, initialCertificationState, now), now.toISOString());
        let finalSeen: CertificationStatus | null = null;
        for (const { kind, days } of sequence) {
          now = new Date(now.getTime() + days * 86_400_000);
          if (state.status === 'absent') throw new Error('state lost');
          const before = state;
          const drawn = nextStatus(before.status, commandEvent[kind]);
          let events: CertificationEvent[] | null = null;
          try {
            events = decide(commands[kind], before, now);
          } catch (error) {
            const code = (error as { code?: string }).code;
            // Refusals are coded: an undrawn edge, or a scheduler event before it is due.
            expect(code).toBe('INVALID_TRANSITION');
            if (drawn !== undefined) expect(['markExpiringSoon', 'expire']).toContain(kind);
          }
          if (events) {
            expect(drawn).toBeDefined();
            state = at(before, events, now.toISOString());
            expect(state.status).toBe(drawn);
          }
          expect(certificationStatuses).toContain(state.status);
          if (finalSeen) expect(state.status).toBe(finalSeen);
          if (isFinal(state.status as CertificationStatus)) finalSeen = state.status as CertificationStatus;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('replaying the stored events rebuilds the same state (evolve is deterministic)', () => {
    fc.assert(
      fc.property(steps, (sequence) => {
        const log: (CertificationEvent & { occurredAt: string })[] = [];
        let now = new Date(appliedAt);
        let state: CertificationState = initialCertificationState;
        for (const command of [commands.apply, ...sequence.map((s) => commands[s.kind])]) {
          try {
            for (const e of decide(command, state, now)) {
              log.push({ ...e, occurredAt: now.toISOString() });
              state = evolve(state, { ...e, occurredAt: now.toISOString() });
            }
          } catch {
            // refused: nothing logged
          }
          now = new Date(now.getTime() + 400 * 86_400_000);
        }
        expect(log.reduce<CertificationState>((s, e) => evolve(s, e), initialCertificationState)).toEqual(state);
      }),
      { numRuns: 200 },
    );
  });
});
