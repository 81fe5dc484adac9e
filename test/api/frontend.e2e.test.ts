// The API as a frontend meets it, through the gateway: lookups of missing ids answer null without
// hiding the rest of the data, and (further down) errors, enums, cache identity and names agree
// across subgraphs and transports.
import { parkedEventsCollection } from '../../messaging/outbox/parked-events';
import { certificationStreamId } from '../../subgraphs/certification/domain/certification';
import { startProduct, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';
import { gatewayClient, subscribe } from '../subscriptions/support/ws-client';

interface ClientError {
  message: string;
  locations?: { line: number; column: number }[];
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}

interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface SchemaType {
  name: string;
  kind: string;
  fields: { name: string; type: TypeRef; args: { name: string; type: TypeRef }[] }[] | null;
  inputFields: { name: string; type: TypeRef }[] | null;
}

const TYPE_REF = 'kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }';

/** The named type under NON_NULL and LIST wrappers. */
function named(type: TypeRef): TypeRef {
  return type.ofType ? named(type.ofType) : type;
}

describe('the API as a frontend sees it', () => {
  let product: RunningProduct;
  const admin = () => product.token('root', 'admin');

  beforeAll(async () => {
    product = await startProduct();
  });
  afterAll(async () => {
    await product.close();
  });

  async function schemaTypes(): Promise<Map<string, SchemaType>> {
    const { body } = await product.graphql(
      `{ __schema { types { name kind fields { name type { ${TYPE_REF} } args { name type { ${TYPE_REF} } } } inputFields { name type { ${TYPE_REF} } } } } }`,
      { token: admin() },
    );
    const types = (body.data as { __schema: { types: SchemaType[] } }).__schema.types;
    return new Map(types.map((t) => [t.name, t]));
  }

  function fieldType(types: Map<string, SchemaType>, path: string): string {
    const [typeName, fieldName, argName] = path.split('.');
    const type = types.get(typeName ?? '');
    const field = type?.fields?.find((f) => f.name === fieldName);
    const ref = argName ? field?.args.find((a) => a.name === argName)?.type : (field?.type ?? type?.inputFields?.find((f) => f.name === fieldName)?.type);
    if (!ref) throw new Error(`no field or argument ${path}`);
    const t = named(ref);
    return `${t.kind} ${t.name}`;
  }

  describe('closed sets of values', () => {
    it('are one enum wherever the same idea appears', async () => {
      const types = await schemaTypes();
      const same = (paths: string[], expected: string) => expect(paths.map((p) => [p, fieldType(types, p)])).toEqual(paths.map((p) => [p, expected]));
      same(['Member.tier', 'CrmSync.tier', 'CreateMemberInput.tier', 'RenewMembershipInput.tier', 'Query.members.tier'], 'ENUM MemberTier');
      same(['Viewer.role', 'TransitionActor.role', 'AuditEntry.actorRole'], 'ENUM Role');
      same(['EngagementScore.level', 'RiskAssessment.level'], 'ENUM ScoreLevel');
      same(['DetectedPattern.pattern', 'CepRuleInfo.pattern', 'Query.detectedPatterns.pattern'], 'ENUM PatternKind');
      same(['ActivityInput.type', 'TrackedActivity.type', 'LateActivity.type'], 'ENUM ActivityType');
      same(['DetectedPattern.action', 'PatternAction.type'], 'ENUM PatternActionType');
      same(['Certification.status', 'Certification.allowedTransitions', 'CertificationTransition.toState', 'CertificationUpdate.toState', 'Query.certifications.status'], 'ENUM CertificationStatus');
      same(['ConsumerStatus.kind'], 'ENUM ConsumerKind');
      same(['SentEmail.transport'], 'ENUM EmailTransport');
      same(['Payment.failureReason'], 'ENUM PaymentFailureReason');
      same(['AuditChange.field'], 'ENUM MemberField');
    });

    it('leave no field that names a kind, role, level, tier or status as a String (event type names excepted)', async () => {
      const types = await schemaTypes();
      // Event types are the catalogue's names (`member.profile.updated`), listed by `eventContracts`.
      const eventTypeNames = new Set(['EventContract.type', 'EventTypeTraffic.type']);
      const suspicious = /^(kind|role|actorRole|level|tier|status|state|fromState|toState|pattern|transport|type|reason|failureReason)$/;
      const offenders: string[] = [];
      for (const type of types.values()) {
        if (type.name.startsWith('__')) continue;
        for (const field of [...(type.fields ?? []), ...(type.inputFields ?? [])]) {
          const t = named(field.type);
          if (suspicious.test(field.name) && t.name === 'String' && !eventTypeNames.has(`${type.name}.${field.name}`)) offenders.push(`${type.name}.${field.name}`);
        }
      }
      // Free text, by design: an admin's reason for a rejection, suspension or revocation; why an
      // order ended ("out of stock: GOODS-HANDBOOK"); why a replay delivery failed.
      // And a parked event's type (an event type name) and reason (the bus's refusal, in its words),
      // and why a consumer gave up on a dead letter (its last failure, in its words).
      expect(offenders.sort()).toEqual(['Certification.reason', 'CertificationTransition.reason', 'DeadLetter.reason', 'Order.failureReason', 'ParkedEvent.reason', 'ParkedEvent.type', 'ReplayError.reason']);
    });

    it("shows the CRM's tier as the member's: the same value of the same enum", async () => {
      const id = 'enum-crm';
      const token = product.token(id);
      // A paid tier at registration is an admin's to grant (a member orders it).
      const created = await product.graphql(
        `mutation { createMember(input: { id: "${id}", email: "enum-crm@example.org", firstName: "En", lastName: "Um", tier: PREMIUM }) { tier } }`,
        { token: admin() },
      );
      expect(created.body.errors).toBeUndefined();
      const member = await eventually(async () => {
        const { body } = await product.graphql(`{ member(id: "${id}") { tier crmSync { tier } auditTrail { edges { node { actorRole changes { field after } } } } } }`, { token });
        const m = (body.data as { member: { tier: string; crmSync: { tier: string } | null; auditTrail: { edges: unknown[] } } }).member;
        return m.crmSync && m.auditTrail.edges.length > 0 ? m : null;
      }, 'the CRM sync and the audit entry');
      expect(member).toMatchObject({
        tier: 'PREMIUM',
        crmSync: { tier: 'PREMIUM' },
        auditTrail: { edges: [{ node: { actorRole: 'ADMIN', changes: expect.arrayContaining([{ field: 'TIER', after: 'PREMIUM' }, { field: 'FIRST_NAME', after: 'En' }]) } }] },
      });
    });
  });

  describe('errors', () => {
    /** The errors a subscription gets (its `error` message, or the errors of its first `next`). */
    async function overWebSocket(token: string, query: string, variables: Record<string, unknown> = {}): Promise<ClientError[]> {
      const client = gatewayClient(product.gateway.url.replace(/^http/, 'ws'), { authorization: `Bearer ${token}` });
      try {
        const received = await subscribe(client, { query, variables }).take('an error');
        if (received.kind === 'error') return received.errors as ClientError[];
        if (received.kind === 'next' && received.errors) return received.errors as ClientError[];
        throw new Error(`expected errors, got ${JSON.stringify(received)}`);
      } finally {
        await client.dispose();
      }
    }
    async function overHttp(token: string, query: string, variables: Record<string, unknown> = {}): Promise<ClientError[]> {
      const { body } = await product.graphql(query, { token, variables });
      expect(body).not.toHaveProperty('extensions.valueCompletion');
      return (body.errors ?? []) as ClientError[];
    }
    const shape = (e: ClientError) => ({ keys: Object.keys(e).sort(), extensionKeys: Object.keys(e.extensions ?? {}).sort() });

    it("a subgraph's refusal: the same message, code, path and locations (into the client's own document) over HTTP and WebSocket", async () => {
      const token = product.token('err-1');
      // The refused field sits on line 3, column 3, of both documents.
      const http = await overHttp(token, `query Mine {\n  viewer { id }\n  certifications(memberId: "someone-else") { totalCount }\n}`);
      const ws = await overWebSocket(token, `subscription Theirs {\n  # whose certifications\n  certificationChanged(memberId: "someone-else") { eventType }\n}`);
      for (const errors of [http, ws]) {
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatchObject({ locations: [{ line: 3, column: 3 }], extensions: { code: 'FORBIDDEN' } });
        expect(errors[0]?.message).toMatch(/only .* (itself|its own)/);
        expect(errors[0]?.extensions).not.toHaveProperty('serviceName');
      }
      expect(http[0]?.path).toEqual(['certifications']);
      expect(ws[0]?.path).toEqual(['certificationChanged']);
      expect(shape(http[0] as ClientError)).toEqual(shape(ws[0] as ClientError));
    });

    it('a validation error: the same shape, with locations and no path, over HTTP and WebSocket', async () => {
      const token = product.token('err-2');
      const http = await overHttp(token, `{ viewer { nope } }`);
      const ws = await overWebSocket(token, `subscription { memberUpdated(id: "err-2") { nope } }`);
      for (const errors of [http, ws]) {
        expect(errors[0]).toMatchObject({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' }, locations: [expect.objectContaining({ line: 1 })] });
        expect(errors[0]).not.toHaveProperty('path');
      }
      expect(shape(http[0] as ClientError)).toEqual(shape(ws[0] as ClientError));
    });

    it("a field nulled because another subgraph had nothing: an error in `errors` on both transports, not a gateway extension", async () => {
      const admin = product.token('root', 'admin');
      // A certification of a member the member subgraph does not know (written before commands checked
      // that members exist, as old data may have been): its member's email cannot be resolved.
      const client = gatewayClient(product.gateway.url.replace(/^http/, 'ws'), { authorization: `Bearer ${admin}` });
      try {
        const watched = subscribe(client, {
          query: `subscription($m: ID!) { certificationChanged(memberId: $m) { certification { id member { email } } } }`,
          variables: { m: 'ghost-1' },
          extensions: { cursor: '0' },
        });
        const id = 'cert-of-ghost-1';
        await product.backends.store.append(
          certificationStreamId(id),
          [{ type: 'certification.applied', payload: { certificationId: id, applicantId: 'ghost-1', certType: 'CPA', documents: [{ name: 'T', url: 'https://example.org/t' }] } }],
          { expectedVersion: 0, context: { correlationId: 'ghost-1-application' } },
        );
        const event = await watched.takeNext('the application');
        const http = await overHttp(admin, `query($id: ID!) { certification(id: $id) { id member { email } } }`, { id });
        const ws = (event.errors ?? []) as ClientError[];
        for (const errors of [http, ws]) {
          expect(errors).toHaveLength(1);
          expect(errors[0]?.message).toBe('Cannot return null for non-nullable field Member.email.');
          expect(errors[0]?.path?.slice(-2)).toEqual(['member', 'email']);
          expect(errors[0]?.locations).toHaveLength(1);
        }
        expect(shape(http[0] as ClientError)).toEqual(shape(ws[0] as ClientError));
      } finally {
        await client.dispose();
      }
    });

    it('never name a subgraph, whatever the error', async () => {
      const member = product.token('err-3');
      const bodies = await Promise.all(
        [
          `{ ledger { totalCents } }`,
          `{ members { totalCount } }`,
          `{ orders(memberId: "other") { totalCount } }`,
          `{ eventMonitor { headPosition } }`,
          `{ member(id: "other") { id } }`,
          `{ detectedPatterns(memberId: "other") { totalCount } }`,
          `{ orders(first: 1000) { totalCount } }`,
        ].map((q) => product.graphql(q, { token: member })),
      );
      for (const { body } of bodies) {
        expect(body.errors?.length).toBeGreaterThan(0);
        for (const error of body.errors ?? []) {
          expect(Object.keys(error).sort()).toEqual(['extensions', 'locations', 'message', 'path']);
          expect(JSON.stringify(error)).not.toMatch(/serviceName|subgraph/i);
        }
      }
    });
  });

  describe('cache identity', () => {
    // Objects without an identity of their own: parts of their parent, figures of a moment, pages.
    const valueTypes = new Set([
      'Query', 'Mutation', 'Subscription', 'PageInfo', 'AuditChange', 'OrderItem', 'CertificationDocumentInfo', 'EngagementScore',
      'RiskAssessment', 'ReplayStats', 'ReplayTargetStats', 'ReplayError', 'Ledger', 'EventMonitor', 'AnalyticsStatus',
    ]);

    it('every object type with an identity has `id: ID!`, so normalized caches need no keyFields', async () => {
      const types = await schemaTypes();
      const missing: string[] = [];
      for (const type of types.values()) {
        if (type.kind !== 'OBJECT' || type.name.startsWith('__') || valueTypes.has(type.name) || /(Connection|Edge)$/.test(type.name)) continue;
        const id = type.fields?.find((f) => f.name === 'id');
        if (!id || id.type.kind !== 'NON_NULL' || named(id.type).name !== 'ID') missing.push(type.name);
      }
      expect(missing).toEqual([]);
    });

    it('gives catalogue entries ids that identify them: a product by its SKU, a certification type by its code', async () => {
      const { body } = await product.graphql(`{ products { id sku } certificationTypes { id code } eventContracts { id type } replayTargets { id name } }`, {
        token: admin(),
      });
      expect(body.errors).toBeUndefined();
      const data = body.data as Record<string, { id: string; sku?: string; code?: string; type?: string; name?: string }[]>;
      for (const p of data.products ?? []) expect(p.id).toBe(p.sku);
      for (const c of data.certificationTypes ?? []) expect(c.id).toBe(c.code);
      for (const c of data.eventContracts ?? []) expect(c.id).toBe(c.type);
      for (const t of data.replayTargets ?? []) expect(t.id).toBe(t.name);
      for (const list of Object.values(data)) expect(new Set(list.map((x) => x.id)).size).toBe(list.length);
      expect(data.products?.length).toBeGreaterThan(0);
    });
  });

  describe('names', () => {
    it('are the same in eventMonitor, replayTargets and startReplay: a consumer is `crm` everywhere, its queue shown beside', async () => {
      const token = admin();
      const created = await product.graphql(`mutation { createMember(input: { id: "names-1", email: "names-1@example.org", firstName: "Na", lastName: "Mes" }) { id } }`, { token });
      expect(created.body.errors).toBeUndefined();
      const seen = await eventually(async () => {
        const { body } = await product.graphql(`{ eventMonitor { consumers { id name kind queue } } replayTargets { name kind } }`, { token });
        const data = body.data as { eventMonitor: { consumers: { id: string; name: string; kind: string; queue: string | null }[] }; replayTargets: { name: string; kind: string }[] };
        return data.eventMonitor.consumers.some((c) => c.name === 'crm') ? data : null;
      }, 'the crm consumer in the monitor');
      const consumers = seen.eventMonitor.consumers.filter((c) => c.kind === 'CONSUMER');
      const targets = new Set(seen.replayTargets.filter((t) => t.kind === 'CONSUMER').map((t) => t.name));
      expect(consumers.length).toBeGreaterThan(0);
      for (const c of consumers) {
        expect(targets.has(c.name)).toBe(true);
        expect(c).toMatchObject({ id: c.name, queue: `${product.config.QUEUE_PREFIX}${c.name}` });
      }
      const now = Date.now();
      const started = await product.graphql(`mutation($input: StartReplayInput!) { startReplay(input: $input) { id targets } }`, {
        token,
        variables: { input: { from: new Date(now - 3_600_000).toISOString(), to: new Date(now - 1000).toISOString(), targets: ['crm'] } },
      });
      expect(started.body.errors).toBeUndefined();
      expect((started.body.data as { startReplay: { targets: string[] } }).startReplay.targets).toEqual(['crm']);
    });

    it("describes each payload's eventType for its own events, not with one copied example", async () => {
      const types = await schemaTypes();
      const { body } = await product.graphql(`{ __schema { types { name fields { name description } } } }`, { token: admin() });
      const described = (body.data as { __schema: { types: { name: string; fields: { name: string; description: string | null }[] | null }[] } }).__schema.types;
      const payloads = [...types.values()].filter((t) => t.fields?.some((f) => f.name === 'eventType') && t.fields.some((f) => f.name === 'cursor')).map((t) => t.name);
      expect(payloads.sort()).toEqual(['CertificationUpdate', 'EventFlowUpdate', 'MemberUpdate', 'PatternDetectedUpdate', 'ReplayProgress', 'SagaProgress']);
      const descriptions = payloads.map((name) => described.find((t) => t.name === name)?.fields?.find((f) => f.name === 'eventType')?.description ?? '');
      expect(new Set(descriptions).size).toBe(payloads.length);
      for (const d of descriptions) expect(d).not.toMatch(/e\.g\./);
      expect(descriptions[payloads.indexOf('MemberUpdate')]).toContain('`member.profile.updated`');
      expect(descriptions[payloads.indexOf('SagaProgress')]).toContain('`order.completed`');
    });
  });

  describe('connections', () => {
    interface Page {
      totalCount: number;
      edges: { cursor: string; node: { id: string } }[];
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
    }
    const PAGE = 'totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';
    const memberId = 'pager-1';

    /** Every connection a frontend can page, as [where it hangs, how to reach it with page arguments]. */
    const lists: Record<string, { token: () => string; query: (page: string) => string; pick: (data: Record<string, unknown>) => Page }> = {};
    const onQuery = (field: string, args = '', token = admin) => {
      lists[`Query.${field}`] = { token, query: (page) => `{ list: ${field}(${[args, page].filter(Boolean).join(', ')}) { ${PAGE} } }`, pick: (d) => d.list as Page };
    };
    const onMember = (field: string) => {
      lists[`Member.${field}`] = {
        token: () => product.token(memberId),
        query: (page) => `{ member(id: "${memberId}") { list: ${field}(${page}) { ${PAGE} } } }`,
        pick: (d) => (d.member as { list: Page }).list,
      };
    };
    for (const field of ['certifications', 'orders', 'payments', 'auditTrail', 'emails', 'activitySummaries', 'detectedPatterns', 'patternActions']) onMember(field);
    onQuery('members', 'search: "pager"');
    onQuery('orders', `memberId: "${memberId}"`);
    onQuery('certifications', `memberId: "${memberId}"`);
    onQuery('detectedPatterns');
    onQuery('patternActions');
    onQuery('lateActivity');
    onQuery('replays');
    lists['EventMonitor.parkedEvents'] = {
      token: admin,
      query: (page) => `{ eventMonitor { list: parkedEvents(${page}) { ${PAGE} } } }`,
      pick: (d) => (d.eventMonitor as { list: Page }).list,
    };
    let certificationId = '';
    lists['Certification.timeline'] = {
      token: admin,
      query: (page) => `{ certification(id: "${certificationId}") { list: timeline(${page}) { ${PAGE} } } }`,
      pick: (d) => (d.certification as { list: Page }).list,
    };

    async function page(name: string, args: string): Promise<Page> {
      const list = lists[name];
      if (!list) throw new Error(`no list ${name}`);
      const { body } = await product.graphql(list.query(args), { token: list.token() });
      if (body.errors) throw new Error(`${name}(${args}): ${JSON.stringify(body.errors)}`);
      return list.pick(body.data as Record<string, unknown>);
    }

    beforeAll(async () => {
      const token = product.token(memberId);
      const ok = async (query: string, as = token) => {
        const { body } = await product.graphql(query, { token: as });
        if (body.errors) throw new Error(JSON.stringify(body.errors));
        return body.data as Record<string, { id: string }>;
      };
      await ok(`mutation { createMember(input: { email: "pager-1@example.org", firstName: "Pa", lastName: "Ger" }) { id } }`);
      await ok(`mutation { updateMemberProfile(id: "${memberId}", expectedVersion: 1, input: { firstName: "Paige" }) { id } }`);
      const card = `card: { number: "4242424242424242", expMonth: 12, expYear: 2099, cvc: "123" }`;
      for (const sku of ['COURSE-ETHICS', 'COURSE-AUDIT', 'GOODS-HANDBOOK']) await ok(`mutation { createOrder(input: { items: [{ sku: "${sku}", quantity: 1 }], ${card} }) { id } }`);
      const documents = `documents: [{ name: "Transcript", url: "https://example.org/t.pdf" }]`;
      for (const certType of ['CPA', 'CFE', 'CIA']) {
        const applied = await ok(`mutation { applyForCertification(input: { certType: "${certType}", ${documents} }) { id } }`);
        certificationId = applied.applyForCertification?.id ?? certificationId;
      }
      await ok(`mutation { startCertificationReview(id: "${certificationId}") { id } }`, admin());
      await ok(`mutation { approveCertification(id: "${certificationId}") { id } }`, admin());
      await ok(`mutation { trackActivities(inputs: [{ memberId: "${memberId}", type: MEMBER_LOGIN }, { memberId: "${memberId}", type: COURSE_STARTED, courseId: "c1" }]) { id } }`);
      // Long past its window: kept aside as late activity.
      const lateAt = new Date(Date.now() - 3_600_000).toISOString();
      for (const n of [1, 2]) await ok(`mutation { trackActivity(input: { memberId: "${memberId}", type: MEMBER_LOGIN, activityId: "late-${n}", occurredAt: "${lateAt}" }) { id } }`);
      for (const target of ['crm', 'email']) {
        const to = new Date(Date.now() - 1000).toISOString();
        await ok(`mutation { startReplay(input: { from: "2000-01-01T00:00:00.000Z", to: "${to}", targets: ["${target}"] }) { id } }`, admin());
      }
      // Events the relay parked (how it records them: the bus here can publish anything).
      for (const n of [1, 2, 3]) {
        await parkedEventsCollection(product.backends.documents).insert({
          id: `parked-${n}`, type: 'member.created', streamId: `member-parked-${n}`, streamVersion: 1, position: 1_000_000 + n, correlationId: `c-${n}`,
          reason: 'larger than the bus takes', status: 'parked', failedAttempts: 1, parkedAt: new Date().toISOString(), resolvedAt: null, resolvedBy: null, note: null,
        });
      }
      // The consumers, sagas and projections catch up: the lists stop moving.
      await eventually(async () => {
        const counts = await Promise.all(['Member.orders', 'Member.emails', 'Member.auditTrail', 'Query.lateActivity', 'Query.members'].map(async (n) => (await page(n, 'first: 0')).totalCount));
        const { body } = await product.graphql(`{ member(id: "${memberId}") { orders { edges { node { status } } } } }`, { token });
        const statuses = (body.data as { member: { orders: { edges: { node: { status: string } }[] } } }).member.orders.edges.map((e) => e.node.status);
        return counts.join() === '3,2,2,2,1' && statuses.every((st) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(st));
      }, 'the seeded lists to settle', 30_000);
    }, 60_000);

    it('covers every connection of the schema', async () => {
      const types = await schemaTypes();
      const found: string[] = [];
      for (const type of types.values()) {
        if (type.kind !== 'OBJECT' || type.name.startsWith('__')) continue;
        for (const field of type.fields ?? []) if (/Connection$/.test(named(field.type).name ?? '')) found.push(`${type.name}.${field.name}`);
      }
      expect(found.sort()).toEqual(Object.keys(lists).sort());
    });

    it.each(Object.keys(lists).sort())('pages %s forwards one by one, backwards one by one, and agrees with one page and totalCount', async (name) => {
      const all = await page(name, 'first: 100');
      const ids = all.edges.map((e) => e.node.id);
      expect(all.totalCount).toBe(ids.length);
      expect(new Set(ids).size).toBe(ids.length);
      expect(all.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });

      const forward: string[] = [];
      let p = await page(name, 'first: 1');
      for (let guard = 0; ; guard++) {
        forward.push(...p.edges.map((e) => e.node.id));
        expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)?.cursor ?? null);
        if (!p.pageInfo.hasNextPage || guard > 200) break;
        p = await page(name, `first: 1, after: ${JSON.stringify(p.pageInfo.endCursor)}`);
        expect(p.pageInfo.hasPreviousPage).toBe(true);
      }
      expect(forward).toEqual(ids);

      const backward: string[] = [];
      p = await page(name, 'last: 1');
      for (let guard = 0; ; guard++) {
        backward.unshift(...p.edges.map((e) => e.node.id));
        expect(p.pageInfo.startCursor).toBe(p.edges[0]?.cursor ?? null);
        if (!p.pageInfo.hasPreviousPage || guard > 200) break;
        p = await page(name, `last: 1, before: ${JSON.stringify(p.pageInfo.startCursor)}`);
        expect(p.pageInfo.hasNextPage).toBe(true);
      }
      expect(backward).toEqual(ids);
    });

    it('has something to page in the lists the seed fills', async () => {
      for (const [name, min] of [['Member.orders', 3], ['Member.payments', 3], ['Member.certifications', 3], ['Certification.timeline', 3], ['Member.emails', 2], ['Member.auditTrail', 2], ['Query.lateActivity', 2], ['Query.replays', 2]] as const) {
        expect([name, (await page(name, 'first: 0')).totalCount >= min]).toEqual([name, true]);
      }
    });

    it('refuses a page larger than 100 and a cursor from another list, naming the argument', async () => {
      const { body } = await product.graphql(`{ replays(first: 101) { totalCount } }`, { token: admin() });
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first', max: 100 });
      const orders = await page('Member.orders', 'first: 1');
      const foreign = await product.graphql(`{ replays(after: ${JSON.stringify(orders.pageInfo.endCursor)}) { totalCount } }`, { token: admin() });
      expect(foreign.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    });
  });

  describe('lookups by id', () => {
    it('answer null for a missing id, every one of them, next to data that exists, without an error', async () => {
      const { body } = await product.graphql(
        `{ order(id: "nope") { id } payment(id: "nope") { id } member(id: "nope") { id } certification(id: "nope") { id } replay(id: "nope") { id } viewer { id } }`,
        { token: admin() },
      );
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual({ order: null, payment: null, member: null, certification: null, replay: null, viewer: { id: 'root' } });
    });

    it('answer null to a member asking for a missing order or payment, and FORBIDDEN only for what exists and is not theirs', async () => {
      const token = product.token('lookup-1');
      const { body } = await product.graphql(`{ order(id: "missing") { id } payment(id: "missing") { id } viewer { id } }`, { token });
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual({ order: null, payment: null, viewer: { id: 'lookup-1' } });
    });

    it('are nullable in the schema: every root field taking an id is', async () => {
      const { body } = await product.graphql(`{ __schema { queryType { fields { name type { kind } args { name type { kind ofType { name } } } } } } }`, {
        token: admin(),
      });
      const fields = (body.data as { __schema: { queryType: { fields: { name: string; type: { kind: string }; args: { name: string; type: { kind: string; ofType: { name: string } | null } }[] }[] } } })
        .__schema.queryType.fields;
      const lookups = fields.filter((f) => f.args.some((a) => a.name === 'id' && a.type.kind === 'NON_NULL' && a.type.ofType?.name === 'ID'));
      expect(lookups.map((f) => f.name).sort()).toEqual(['certification', 'member', 'order', 'payment', 'replay']);
      for (const lookup of lookups) expect([lookup.name, lookup.type.kind]).toEqual([lookup.name, 'OBJECT']);
    });
  });
});
