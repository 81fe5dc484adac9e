// The Member a subscription pushes is the member after the pushed change, even when the read model's
// follower has not applied that change yet: the missing events are folded from the store.
import { createMemoryBackends } from '../../messaging/backends';
import { ManualClock } from '../../platform/clock';
import { loggerFor } from '../../platform/logger';
import { MemberService } from '../../subgraphs/member/domain/member-service';
import { resolveMemberReference, type MemberResolverDeps } from '../../subgraphs/member/graphql/member.resolver';
import { MemberSearchIndex } from '../../subgraphs/member/projections/member-search-index';
import { applyToMemberDoc, membersCollection } from '../../subgraphs/member/projections/member-read-model';

describe('resolveMemberReference', () => {
  it('folds the events the read model has not applied yet, up to the version asked for', async () => {
    const clock = new ManualClock('2025-03-01T10:00:00.000Z');
    const backends = await createMemoryBackends(clock);
    const service = new MemberService(backends.store, backends.documents, clock, 50);
    const admin = { sub: 'admin-1', role: 'admin' as const, expiresAt: null };
    await service.create(admin, { id: 'm1', email: 'ada@example.org', firstName: 'Ada', lastName: 'Lovelace' }, { correlationId: 'c' });
    await service.updateProfile('m1', { lastName: 'King' }, 1, { correlationId: 'c' });
    await service.updateProfile('m1', { lastName: 'Byron' }, 2, { correlationId: 'c' });
    // The read model only saw the creation (its follower lags).
    const members = membersCollection(backends.documents);
    const [created] = await backends.store.readStream('member-m1');
    await members.put(applyToMemberDoc(null, created!)!);
    const deps: MemberResolverDeps = { service, members, searchIndex: new MemberSearchIndex(() => clock.now()), clock, store: backends.store };
    const ctx = { identity: admin, correlationId: 'c', logger: loggerFor('test') };

    expect(await resolveMemberReference(deps, { id: 'm1', atLeastVersion: 2 }, ctx)).toMatchObject({ id: 'm1', lastName: 'King' });
    expect(await resolveMemberReference(deps, { id: 'm1', atLeastVersion: 3 }, ctx)).toMatchObject({ lastName: 'Byron' });
    // An entity fetch without a version reads the read model as it is.
    expect(await resolveMemberReference(deps, { id: 'm1' }, ctx)).toMatchObject({ lastName: 'Lovelace' });
    await backends.close();
  });
});
