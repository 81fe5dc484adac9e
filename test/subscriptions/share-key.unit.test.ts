// The share key of gateway subscriptions: equal for results that would be identical, different
// whenever the subgraph, the operation, the variables or the caller's identity differ.
import { shareKey } from '../../gateway/subscriptions/shared-subscriptions';

const member = { sub: 'm-1', role: 'member' as const, expiresAt: 100 };
const base = {
  service: 'member',
  query: 'subscription W($id: ID!, $f: F) { memberUpdated(id: $id) { cursor } }',
  operationName: 'W',
  variables: { id: 'm-1', f: { a: 1, b: [{ x: 1, y: 2 }] } } as Record<string, unknown>,
  identity: member,
};

describe('shareKey', () => {
  it('ignores the order of variable keys, at any depth, and the token expiry', () => {
    const reordered = { f: { b: [{ y: 2, x: 1 }], a: 1 }, id: 'm-1' };
    expect(shareKey({ ...base, variables: reordered, identity: { ...member, expiresAt: 999 } })).toBe(shareKey(base));
  });

  it('differs by subgraph, document, operation name, variables and identity', () => {
    const key = shareKey(base);
    expect(shareKey({ ...base, service: 'payment' })).not.toBe(key);
    expect(shareKey({ ...base, query: `${base.query} ` })).not.toBe(key);
    expect(shareKey({ ...base, operationName: undefined })).not.toBe(key);
    expect(shareKey({ ...base, variables: { ...base.variables, id: 'm-2' } })).not.toBe(key);
    expect(shareKey({ ...base, variables: { ...base.variables, f: { a: 1, b: [{ x: 2, y: 1 }] } } })).not.toBe(key);
    expect(shareKey({ ...base, identity: { ...member, role: 'admin' } })).not.toBe(key);
    expect(shareKey({ ...base, identity: { ...member, sub: 'm-2' } })).not.toBe(key);
  });

  it('gives a null identity a key of its own', () => {
    expect(shareKey({ ...base, identity: null })).toBe(shareKey({ ...base, identity: null }));
    expect(shareKey({ ...base, identity: null })).not.toBe(shareKey({ ...base, identity: { sub: '', role: 'member', expiresAt: null } }));
  });
});
