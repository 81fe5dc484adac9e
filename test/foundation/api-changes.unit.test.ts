// The breaking-change report of `npm run compose`: what a new supergraph breaks or may change for
// clients compared with the committed one, by @graphql-inspector/core.
import fs from 'node:fs';
import path from 'node:path';
import { apiChanges, formatApiChanges } from '../../scripts/api-changes';

const committed = fs.readFileSync(path.resolve(__dirname, '..', '..', 'supergraph.graphql'), 'utf8');

function edited(from: string, to: string): string {
  expect(committed).toContain(from);
  return committed.replace(from, to);
}

describe('API changes against the committed supergraph', () => {
  it('reports nothing when the API schema is the same', async () => {
    const changes = await apiChanges(committed, committed);
    expect(formatApiChanges(changes)).toEqual(['API schema unchanged.']);
  });

  it('reports a removed field as breaking, naming it and telling where to document the migration', async () => {
    const withoutLedger = edited(
      `  """Admins: the double-entry ledger's balances (they always sum to zero)."""\n  ledger: Ledger! @join__field(graph: PAYMENT)\n`,
      '',
    );
    const changes = await apiChanges(committed, withoutLedger);
    expect(changes.breaking.map((c) => c.path)).toContain('Query.ledger');
    const report = formatApiChanges(changes);
    expect(report[0]).toMatch(/^API schema changes against the committed supergraph\.graphql: [1-9]\d* breaking, \d+ dangerous, \d+ safe\.$/);
    expect(report).toContain('BREAKING (a client query may stop working; say how to migrate in README.md "Changelog"):');
    expect(report.some((line) => line.includes("Field 'ledger' was removed from object type 'Query'"))).toBe(true);
  });

  it('reports a non-null field made nullable as breaking, the reverse as safe, and a new enum value as dangerous', async () => {
    const nonNullLookup = edited('): Order @join__field(graph: PAYMENT)', '): Order! @join__field(graph: PAYMENT)');
    expect((await apiChanges(nonNullLookup, committed)).breaking.map((c) => c.path)).toEqual(['Query.order']);
    expect((await apiChanges(committed, nonNullLookup)).breaking).toEqual([]);

    const gold = edited('  """The premium membership."""\n', '  """Gold."""\n  GOLD @join__enumValue(graph: MEMBER)\n\n  """The premium membership."""\n');
    const changes = await apiChanges(committed, gold);
    expect(changes.breaking).toEqual([]);
    expect(changes.dangerous.map((c) => c.path)).toEqual(['MemberTier.GOLD']);
    expect(formatApiChanges(changes)).toContain('DANGEROUS (a client may behave differently):');
  });
});
