// What an error may show a client: schema suggestions only outside production, at most ECHO_LIMIT
// characters of any one input value (then "…"), no stack trace, no internal response.
import { capEchoes, clientSafe, ECHO_LIMIT, echo, MESSAGE_LIMIT, truncate, withoutSuggestions } from '../../platform/client-errors';

describe('client errors', () => {
  it.each([
    ['Cannot query field "membr" on type "Query". Did you mean "member" or "members"?', 'Cannot query field "membr" on type "Query".'],
    [
      'Variable "$t" got invalid value "VIPP"; Value "VIPP" does not exist in "MemberTier" enum. Did you mean the enum value "VIP"?',
      'Variable "$t" got invalid value "VIPP"; Value "VIPP" does not exist in "MemberTier" enum.',
    ],
    ['Unknown argument "idd" on field "Query.member". Did you mean "id"?', 'Unknown argument "idd" on field "Query.member".'],
    ['No member with id m-1.', 'No member with id m-1.'],
  ])('drops the suggestion from %j', (message, expected) => {
    expect(withoutSuggestions(message)).toBe(expected);
  });

  it('keeps suggestions outside production, drops them in production', () => {
    const formatted = { message: 'Cannot query field "membr" on type "Query". Did you mean "member"?', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
    expect(clientSafe(formatted, { hideSuggestions: false }).message).toMatch(/Did you mean/);
    expect(clientSafe(formatted, { hideSuggestions: true }).message).not.toMatch(/Did you mean/);
  });

  it('cleans a megabyte message that repeats "Did you mean" in linear time', () => {
    const hostile = `Enum "MemberTier" cannot represent non-enum value: "${'Did you mean '.repeat(80_000)}". Did you mean the enum value "VIP"?`;
    const started = process.hrtime.bigint();
    const safe = clientSafe({ message: hostile, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }, { hideSuggestions: true });
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    // Apollo's pattern takes over a minute here; one pass takes about a millisecond.
    expect(elapsedMs).toBeLessThan(500);
    expect(safe.message).toBe(`Enum "MemberTier" cannot represent non-enum value: "${'Did you mean '.repeat(7)}Did you m…".`);
  });

  it('repeats at most ECHO_LIMIT characters of a quoted input, then "…"', () => {
    const huge = 'a'.repeat(900_000);
    const message = capEchoes(`Expected value of type "DateTimeISO", found "${huge}"; it is not a date.`);
    expect(message).toBe(`Expected value of type "DateTimeISO", found "${'a'.repeat(ECHO_LIMIT)}…"; it is not a date.`);
  });

  it('repeats at most ECHO_LIMIT characters of an unquoted input, and at most MESSAGE_LIMIT in all', () => {
    expect(capEchoes(`No member with id ${'x'.repeat(5000)}.`)).toBe(`No member with id ${'x'.repeat(ECHO_LIMIT)}…`);
    const words = capEchoes(`found [${'ab, '.repeat(100_000)}]`);
    expect(words.length).toBeLessThanOrEqual(MESSAGE_LIMIT + 1);
    expect(words.endsWith('…')).toBe(true);
  });

  it('never cuts a surrogate pair in half', () => {
    const text = `${'a'.repeat(ECHO_LIMIT - 1)}😀tail`;
    expect(truncate(text)).toBe(`${'a'.repeat(ECHO_LIMIT - 1)}…`);
    expect(echo('short')).toBe('"short"');
  });

  it('removes stack traces and internal responses, and caps strings in extensions', () => {
    const safe = clientSafe(
      {
        message: 'No member with id x.',
        extensions: { code: 'NOT_FOUND', id: 'y'.repeat(1000), stacktrace: ['Error: at ...'], response: { url: 'http://member:4001/graphql', body: 'raw' } },
      },
      { hideSuggestions: true },
    );
    expect(safe).toEqual({ message: 'No member with id x.', extensions: { code: 'NOT_FOUND', id: `${'y'.repeat(ECHO_LIMIT)}…` } });
  });
});
