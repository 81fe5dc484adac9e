// Hostile input through the gateway, in production mode: for every mutation of the API schema and
// every argument leaf of it, bad values (wrong types, empty, huge, control and bidi characters, lone
// surrogates, out-of-range dates and numbers, unknown ids and enum values; fixed ones and ones
// fast-check generates) put into an otherwise valid request. Each must be refused with coded errors
// that show no internal URL, stack or schema suggestion, and must store nothing: no event carries
// the request's correlation id. Afterwards the pipeline still serves everyone else.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import type { AnyEventEnvelope } from '../../messaging/events/envelope';
import { testCards } from '../../subgraphs/payment/domain/simulated-card-processor';
import { startProduct, type RunningProduct } from '../support/product';
import { eventually } from '../support/wait';

jest.setTimeout(300_000);

const supergraph = buildSchema(fs.readFileSync(path.resolve(__dirname, '..', '..', 'supergraph.graphql'), 'utf8'), { assumeValidSDL: true });
const mutations = Object.values(supergraph.getMutationType()?.getFields() ?? {});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Args = Record<string, Json>;

interface Leaf {
  /** Path from the mutation's arguments: ['input', 'items', 0, 'sku']. */
  readonly path: readonly (string | number)[];
  readonly type: GraphQLInputType;
}

/** Every leaf (scalar or enum) reachable from the arguments, one list element deep, as named in the schema. */
function leavesOf(field: GraphQLField<unknown, unknown>): Leaf[] {
  const leaves: Leaf[] = [];
  const walk = (type: GraphQLInputType, at: (string | number)[], depth: number) => {
    const bare = getNullableType(type);
    if (isListType(bare)) {
      leaves.push({ path: at, type }); // the list itself: empty, huge
      walk(bare.ofType as GraphQLInputType, [...at, 0], depth);
      return;
    }
    if (isInputObjectType(bare)) {
      if (depth > 3) return;
      leaves.push({ path: at, type }); // the object itself: empty, unknown field
      for (const inner of Object.values(bare.getFields())) walk(inner.type, [...at, inner.name], depth + 1);
      return;
    }
    leaves.push({ path: at, type });
  };
  for (const arg of field.args as readonly GraphQLArgument[]) walk(arg.type, [arg.name], 0);
  return leaves;
}

/** Client-chosen ids and keys: any fresh value is valid there, so "unknown" is no bad value for them. */
const CLIENT_CHOSEN_KEYS = new Set(['createMember.input.id', 'trackActivity.input.activityId', 'trackActivities.batchId', 'trackActivities.inputs.0.activityId']);
const isClientChosen = (key: string) => CLIENT_CHOSEN_KEYS.has(key) || /(^|\.)idempotencyKey$/.test(key);
/** References to things that must exist. */
const REFERENCES = /(^|\.)(id|memberId|sku)$/;
const DATES = /(^|\.)(occurredAt|from|to)$/;

const hugeString = 'x'.repeat(20_000);
const fixedStrings: Json[] = ['', '   ', hugeString, 'a\u0000b', 'a\u0007b', 'ab\u202Ecd', 'ab\u2066cd', 'a\uD800b', 'a\uDFFFb', 42, true, { nested: 'object' }, ['list']];
const fixedDates: Json[] = ['garbage', '2024-13-45', '2024-02-30T00:00:00Z', '0001-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '9999-12-31T23:59:59Z', '1', 'March 7', '2025-01-01', '2025-01-01T10:00:00', 1_700_000_000_000];
const fixedInts: Json[] = [-1, -2_147_483_648, 2_147_483_647, 1.5, '1', true];

function badValuesFor(key: string, leaf: Leaf): Json[] {
  const bare = getNullableType(leaf.type);
  const named = getNamedType(leaf.type);
  const values: Json[] = [];
  if (isNonNullType(leaf.type)) values.push(null);
  if (isListType(bare)) {
    values.push([], 'not a list');
    return values;
  }
  if (isInputObjectType(bare)) {
    // An empty object is bad only where a field must be given (all-optional inputs default).
    const needsAField = Object.values(bare.getFields()).some((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    values.push(...(needsAField ? [{}] : []), { unknownField: 1 }, 'not an object');
    return values;
  }
  if (isEnumType(named)) {
    values.push('NOT_A_VALUE', (named.getValues()[0]?.name ?? 'x').toLowerCase(), 7, '');
    return values;
  }
  if (isScalarType(named)) {
    if (named.name === 'Int' || named.name === 'Float') {
      // Setting a stock to 0 is an ordinary operation; a version of 0 is a conflict, still refused.
      values.push(...fixedInts, ...(key === 'setStock.available' ? [] : [0]));
    } else if (named.name === 'DateTimeISO' || DATES.test(key)) {
      values.push(...fixedDates);
    } else {
      // A number is a valid ID (GraphQL coerces it to a string): bad only where it names nothing.
      values.push(...fixedStrings.filter((v) => !(named.name === 'ID' && isClientChosen(key) && typeof v === 'number')));
      if (REFERENCES.test(key) && !isClientChosen(key)) values.push(`nobody-${randomUUID()}`);
    }
  }
  return values;
}

function setAt(args: Args, at: readonly (string | number)[], value: Json): Args {
  const copy = structuredClone(args) as Record<string | number, Json>;
  let node: Record<string | number, Json> = copy;
  for (const [i, step] of at.entries()) {
    if (i === at.length - 1) {
      node[step] = value;
      break;
    }
    const next = node[step];
    if (next === null || typeof next !== 'object') node[step] = typeof at[i + 1] === 'number' ? [] : {};
    node = node[step] as Record<string | number, Json>;
  }
  return copy as Args;
}

function variableDefinitions(field: GraphQLField<unknown, unknown>): string {
  return field.args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
}

function documentFor(field: GraphQLField<unknown, unknown>): string {
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const vars = variableDefinitions(field);
  return `mutation${vars ? `(${vars})` : ''} { ${field.name}${args ? `(${args})` : ''} { __typename } }`;
}

interface Outcome {
  readonly status: number;
  readonly body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  readonly stored: number;
}

describe('hostile input through the gateway (production mode)', () => {
  let product: RunningProduct;
  const byCorrelation = new Map<string, number>();
  let admin: string;
  let certificationId: string;
  let memberVersion = 1;
  const member = 'fuzz-member';

  beforeAll(async () => {
    product = await startProduct({
      env: { NODE_ENV: 'production', JWT_SECRET: randomBytes(32).toString('hex'), SUBGRAPH_SECRET: randomBytes(32).toString('hex') },
    });
    product.backends.onAppend((events) => {
      // This process's own appends come with their envelopes (all appends here are local).
      for (const e of events as readonly Partial<AnyEventEnvelope>[]) {
        if (e.correlationId) byCorrelation.set(e.correlationId, (byCorrelation.get(e.correlationId) ?? 0) + 1);
      }
    });
    admin = product.token('fuzz-admin', 'admin');
    const created = await product.graphql(`mutation($input: CreateMemberInput!) { createMember(input: $input) { id version } }`, {
      token: admin,
      variables: { input: { id: member, email: 'fuzz@example.org', firstName: 'Fuzz', lastName: 'Target' } },
    });
    expect(created.body.errors).toBeUndefined();
    const cert = await product.graphql(`mutation($input: ApplyForCertificationInput!) { applyForCertification(input: $input) { id } }`, {
      token: admin,
      variables: { input: { memberId: member, certType: 'CPA', documents: [{ name: 'Transcript', url: 'https://files.example.org/t.pdf' }] } },
    });
    expect(cert.body.errors).toBeUndefined();
    certificationId = (cert.body.data as { applyForCertification: { id: string } }).applyForCertification.id;
  });

  afterAll(async () => {
    await product?.close();
  });

  /** A valid request for each mutation, into which one bad value is put. */
  const baselines: Record<string, () => Args> = {
    trackActivity: () => ({ input: { memberId: member, type: 'MEMBER_LOGIN', location: 'Ghent' } }),
    trackActivities: () => ({ inputs: [{ memberId: member, type: 'MEMBER_LOGIN' }] }),
    startReplay: () => ({ input: { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() - 1000).toISOString(), targets: ['crm'] } }),
    rebuildProjection: () => ({ name: 'member-read-model' }),
    cancelReplay: () => ({ id: 'no-such-replay' }),
    applyForCertification: () => ({ input: { memberId: member, certType: 'CPA', documents: [{ name: 'Transcript', url: 'https://files.example.org/t.pdf' }] } }),
    renewCertification: () => ({ id: certificationId }),
    startCertificationReview: () => ({ id: certificationId }),
    approveCertification: () => ({ id: certificationId }),
    rejectCertification: () => ({ id: certificationId, reason: 'Incomplete' }),
    issueCertification: () => ({ id: certificationId }),
    activateCertification: () => ({ id: certificationId }),
    suspendCertification: () => ({ id: certificationId, reason: 'Audit' }),
    reactivateCertification: () => ({ id: certificationId }),
    revokeCertification: () => ({ id: certificationId, reason: 'Fraud' }),
    createMember: () => {
      const id = `fz-${randomUUID().slice(0, 8)}`;
      return { input: { id, email: `${id}@example.org`, firstName: 'Ada', lastName: 'Lovelace' } };
    },
    updateMemberProfile: () => ({ id: member, expectedVersion: memberVersion, input: { firstName: 'Augusta' } }),
    renewMembership: () => ({ id: member, input: { months: 12 } }),
    createOrder: () => ({ input: { memberId: member, items: [{ sku: 'COURSE-AUDIT', quantity: 1 }], card: { number: testCards.success, expMonth: 12, expYear: 2099, cvc: '123' } } }),
    setStock: () => ({ sku: 'GOODS-HANDBOOK', available: 10 }),
    retryParkedEvent: () => ({ eventId: 'no-such-parked-event' }),
    skipParkedEvent: () => ({ eventId: 'no-such-parked-event', reason: 'Not needed' }),
    requeueDeadLetter: () => ({ consumer: 'crm', eventId: 'no-such-dead-letter' }),
    discardDeadLetter: () => ({ consumer: 'crm', eventId: 'no-such-dead-letter', reason: 'Not needed' }),
  };

  async function send(field: GraphQLField<unknown, unknown>, variables: Args): Promise<Outcome> {
    const correlationId = `fuzz-${randomUUID()}`;
    const response = await fetch(product.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}`, 'x-correlation-id': correlationId },
      body: JSON.stringify({ query: documentFor(field), variables }),
    });
    const text = await response.text();
    let body: Outcome['body'];
    try {
      body = JSON.parse(text) as Outcome['body'];
    } catch {
      body = { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
    }
    return { status: response.status, body, stored: byCorrelation.get(correlationId) ?? 0 };
  }

  /** What is wrong with the answer to a bad request ([] when it was refused properly). */
  function problemsOf(name: string, outcome: Outcome): string[] {
    const problems: string[] = [];
    const errors = outcome.body.errors ?? [];
    if (errors.length === 0) problems.push('accepted');
    if (outcome.stored > 0) problems.push(`stored ${outcome.stored} event(s)`);
    if (outcome.body.data && outcome.body.data[name] != null) problems.push('answered data');
    if (outcome.status >= 500) problems.push(`HTTP ${outcome.status}`);
    for (const error of errors) {
      const text = JSON.stringify(error);
      const code = error.extensions?.code;
      if (typeof code !== 'string') problems.push(`uncoded error: ${error.message.slice(0, 120)}`);
      if (code === 'INTERNAL_SERVER_ERROR') problems.push(`INTERNAL_SERVER_ERROR: ${error.message.slice(0, 120)}`);
      if (/https?:\/\/(127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0)/.test(text)) problems.push('internal URL shown');
      if (/\n\s+at .+\(.+:\d+:\d+\)|stacktrace/i.test(text)) problems.push('stack shown');
      if (/did you mean/i.test(text)) problems.push('schema suggestion shown');
      if (text.length > 2_000) problems.push(`error of ${text.length} characters`);
      if (error.extensions && ('response' in error.extensions || 'exception' in error.extensions)) problems.push('internal extensions shown');
    }
    return problems;
  }

  it('covers every mutation of the API with a valid baseline', () => {
    expect(mutations.map((m) => m.name).filter((name) => !(name in baselines))).toEqual([]);
  });

  it('the baselines are valid: each is accepted as it is (so a refusal below is the bad value\'s doing)', async () => {
    const refused: string[] = [];
    for (const field of mutations) {
      if (['cancelReplay', 'retryParkedEvent', 'skipParkedEvent', 'requeueDeadLetter', 'discardDeadLetter', 'renewCertification', 'approveCertification', 'rejectCertification', 'issueCertification', 'activateCertification', 'suspendCertification', 'reactivateCertification', 'revokeCertification', 'rebuildProjection'].includes(field.name)) continue;
      const outcome = await send(field, baselines[field.name]!());
      if (outcome.body.errors) refused.push(`${field.name}: ${JSON.stringify(outcome.body.errors)}`);
      if (field.name === 'updateMemberProfile' && !outcome.body.errors) memberVersion++;
      if (field.name === 'renewMembership' && !outcome.body.errors) memberVersion++;
    }
    expect(refused).toEqual([]);
  });

  it('refuses every fixed bad value in every argument, coded, showing nothing internal, storing nothing', async () => {
    const failures: string[] = [];
    for (const field of mutations) {
      for (const leaf of leavesOf(field)) {
        const key = [field.name, ...leaf.path].join('.');
        for (const value of badValuesFor(key, leaf)) {
          const outcome = await send(field, setAt(baselines[field.name]!(), leaf.path, value));
          const problems = problemsOf(field.name, outcome);
          if (problems.length > 0) failures.push(`${key} = ${JSON.stringify(value)?.slice(0, 40)}: ${problems.join('; ')}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses generated strings carrying control or bidi characters, and generated out-of-range numbers', async () => {
    const stringLeaves = mutations.flatMap((field) =>
      leavesOf(field)
        .filter((leaf) => {
          const named = getNamedType(leaf.type);
          const key = [field.name, ...leaf.path].join('.');
          return !isListType(getNullableType(leaf.type)) && isScalarType(named) && (named.name === 'String' || named.name === 'ID') && !DATES.test(key);
        })
        .map((leaf) => ({ field, leaf })),
    );
    const intLeaves = mutations.flatMap((field) =>
      leavesOf(field)
        .filter((leaf) => !isListType(getNullableType(leaf.type)) && getNamedType(leaf.type).name === 'Int')
        .map((leaf) => ({ field, leaf })),
    );
    const hostileChar = fc.constantFrom('\u0000', '\u0001', '\u001B', '\u007F', '\u202A', '\u202E', '\u2066', '\u2069', '\uD800', '\uDC00');
    const hostileString = fc
      .tuple(fc.string({ maxLength: 20 }), hostileChar, fc.string({ maxLength: 20 }))
      .map(([a, c, b]) => `${a}${c}${b}`);
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...stringLeaves), hostileString, async ({ field, leaf }, value) => {
        const outcome = await send(field, setAt(baselines[field.name]!(), leaf.path, value));
        const problems = problemsOf(field.name, outcome);
        if (problems.length > 0) failures.push(`${[field.name, ...leaf.path].join('.')} = ${JSON.stringify(value)}: ${problems.join('; ')}`);
        return true;
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...intLeaves), fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 1_000_001 })), async ({ field, leaf }, value) => {
        const outcome = await send(field, setAt(baselines[field.name]!(), leaf.path, value));
        const problems = problemsOf(field.name, outcome);
        const key = [field.name, ...leaf.path].join('.');
        if (problems.length > 0) failures.push(`${key} = ${value}: ${problems.join('; ')}`);
        return true;
      }),
      { numRuns: 80 },
    );
    expect(failures).toEqual([]);
  });

  it('still serves everyone afterwards: a new member\'s order completes', async () => {
    const id = `after-${randomUUID().slice(0, 8)}`;
    const token = product.token(id);
    const created = await product.graphql(`mutation($input: CreateMemberInput!) { createMember(input: $input) { id } }`, {
      token,
      variables: { input: { email: `${id}@example.org`, firstName: 'Grace', lastName: 'Hopper' } },
    });
    expect(created.body.errors).toBeUndefined();
    const order = await product.graphql(`mutation($input: CreateOrderInput!) { createOrder(input: $input) { id } }`, {
      token,
      variables: { input: { items: [{ sku: 'COURSE-AUDIT', quantity: 1 }], card: { number: testCards.success, expMonth: 12, expYear: 2099, cvc: '123' } } },
    });
    expect(order.body.errors).toBeUndefined();
    const orderId = (order.body.data as { createOrder: { id: string } }).createOrder.id;
    await eventually(async () => {
      const r = await product.graphql(`query($id: ID!) { order(id: $id) { status } }`, { token, variables: { id: orderId } });
      return (r.body.data as { order?: { status: string } } | undefined)?.order?.status === 'COMPLETED';
    }, 'the order to complete', 30_000);
  });
});
