import { decide, evolve, initialMemberState, membershipStatus, type MemberCommand, type MemberEvent, type MemberState } from '../../subgraphs/member/domain/member';

const now = new Date('2025-03-01T10:00:00.000Z');
const profile = { email: 'Ada@Example.org ', firstName: ' Ada', lastName: 'Lovelace' };

function given(events: MemberEvent[]): MemberState {
  return events.reduce<MemberState>((s, e) => evolve(s, { ...e, occurredAt: now.toISOString() }), initialMemberState);
}
const created: MemberEvent = {
  type: 'member.created',
  payload: { memberId: 'm1', email: 'ada@example.org', firstName: 'Ada', lastName: 'Lovelace', tier: 'basic' },
};
function when(state: MemberState, command: MemberCommand) {
  return decide(command, state, now);
}

describe('member decider', () => {
  it('creates a member with a normalised profile', () => {
    expect(when(initialMemberState, { kind: 'create', memberId: 'm1', profile, tier: 'basic' })).toEqual([created]);
  });

  it.each([
    ['firstName', { firstName: 'Ada\u0000' }],
    ['lastName', { lastName: 'Love\u202Ecalvol' }],
    ['lastName', { lastName: 'Lovelace\u2066' }],
    ['firstName', { firstName: 'Ada\ud800' }],
    ['email', { email: 'ada\u202E@example.org' }],
  ] as const)('refuses a %s with a control, bidirectional or unpaired character, naming the field', (field, change) => {
    expect(() => when(initialMemberState, { kind: 'create', memberId: 'm1', profile: { ...profile, ...change }, tier: 'basic' })).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field } }),
    );
  });

  it('drops white space around a name rather than refusing it', () => {
    expect(when(initialMemberState, { kind: 'create', memberId: 'm1', profile: { ...profile, firstName: '\tAda\n' }, tier: 'basic' })).toEqual([created]);
  });

  it('refuses to create a member twice with CONFLICT', () => {
    expect(() => when(given([created]), { kind: 'create', memberId: 'm1', profile, tier: 'basic' })).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
  });

  it.each([
    [{ email: 'not-an-email' }, 'email'],
    [{ firstName: '   ' }, 'firstName'],
    [{ lastName: 'x'.repeat(101) }, 'lastName'],
    [{ email: `${'a'.repeat(250)}@example.org` }, 'email'],
  ])('refuses invalid profile input %j naming the field', (changes, field) => {
    expect(() => when(given([created]), { kind: 'updateProfile', memberId: 'm1', changes })).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field } }),
    );
  });

  it('records only the fields that change, with before and after', () => {
    expect(when(given([created]), { kind: 'updateProfile', memberId: 'm1', changes: { firstName: 'Augusta', lastName: 'Lovelace' } })).toEqual([
      { type: 'member.profile.updated', payload: { memberId: 'm1', changes: { firstName: { before: 'Ada', after: 'Augusta' } } } },
    ]);
  });

  it('emits nothing for an update that changes nothing', () => {
    expect(when(given([created]), { kind: 'updateProfile', memberId: 'm1', changes: { firstName: 'Ada' } })).toEqual([]);
  });

  it('refuses to update an unknown member with NOT_FOUND', () => {
    expect(() => when(initialMemberState, { kind: 'updateProfile', memberId: 'zz', changes: { firstName: 'A' } })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });

  it('renews a lapsed or new membership from now', () => {
    const [event] = when(given([created]), { kind: 'renew', memberId: 'm1', months: 12 });
    expect(event).toEqual({ type: 'membership.renewed', payload: { memberId: 'm1', tier: 'basic', expiresAt: '2026-03-01T10:00:00.000Z' } });
  });

  it('extends a running membership from its end date, changing tier when asked', () => {
    const running = given([created, { type: 'membership.renewed', payload: { memberId: 'm1', tier: 'basic', expiresAt: '2025-06-01T00:00:00.000Z' } }]);
    const [event] = when(running, { kind: 'renew', memberId: 'm1', months: 6, tier: 'premium' });
    expect(event?.payload).toEqual({ memberId: 'm1', tier: 'premium', expiresAt: '2025-12-01T00:00:00.000Z' });
  });

  it.each([0, 37, 1.5])('refuses renewing for %p months', (months) => {
    expect(() => when(given([created]), { kind: 'renew', memberId: 'm1', months })).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field: 'months' } }),
    );
  });

  it('activates a paid membership for an order', () => {
    const [event] = when(given([created]), { kind: 'activate', memberId: 'm1', months: 12, tier: 'vip', orderId: 'o1' });
    expect(event).toEqual({
      type: 'membership.activated',
      payload: { memberId: 'm1', tier: 'vip', expiresAt: '2026-03-01T10:00:00.000Z', orderId: 'o1' },
    });
  });

  it('folds events into state', () => {
    const state = given([
      created,
      { type: 'member.profile.updated', payload: { memberId: 'm1', changes: { email: { before: 'ada@example.org', after: 'ada@lovelace.org' } } } },
      { type: 'membership.renewed', payload: { memberId: 'm1', tier: 'premium', expiresAt: '2026-01-01T00:00:00.000Z' } },
    ]);
    expect(state).toMatchObject({ status: 'registered', profile: { email: 'ada@lovelace.org' }, tier: 'premium', membershipExpiresAt: '2026-01-01T00:00:00.000Z' });
  });

  it('derives the membership status from the expiry and the time', () => {
    expect(membershipStatus(null, now)).toBe('none');
    expect(membershipStatus('2025-03-02T00:00:00.000Z', now)).toBe('active');
    expect(membershipStatus('2025-02-01T00:00:00.000Z', now)).toBe('expired');
  });
});
