// Client-given times: strict RFC 3339 with a timezone, inside 2000-2100, event times not ahead of the clock.
import { checkInstant, parseEventTime, parseRfc3339 } from '../../platform/instants';

const now = new Date('2025-01-15T10:00:00.000Z');

describe('client-given times', () => {
  it('reads RFC 3339 date-times with Z or an offset, and fractions of a second', () => {
    expect(parseRfc3339('2025-01-15T10:00:00Z')).toBe(Date.parse('2025-01-15T10:00:00.000Z'));
    expect(parseRfc3339('2025-01-15t12:30:00.25+02:30')).toBe(Date.parse('2025-01-15T10:00:00.250Z'));
    expect(parseRfc3339('2024-02-29T23:59:59.123456789-01:00')).toBe(Date.parse('2024-03-01T00:59:59.123Z'));
  });

  it.each(['1', 'March 7', '2025-01-15', '2025-01-15T10:00:00', '2025-01-15 10:00:00Z', '2025-02-29T00:00:00Z', '2025-13-01T00:00:00Z', '2025-01-15T24:00:00Z', '2025-01-15T10:60:00Z', '2025-01-15T10:00:00+24:00', ' 2025-01-15T10:00:00Z', '+002025-01-15T10:00:00Z'])(
    'refuses %j, which Date.parse would guess at',
    (text) => {
      expect(parseRfc3339(text)).toBeNull();
      expect(() => parseEventTime(text, 'input.occurredAt', now)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field: 'input.occurredAt' } }));
    },
  );

  it.each(['0001-01-01T00:00:00Z', '0099-12-31T23:59:59Z', '1969-12-31T23:59:59Z', '1999-12-31T23:59:59.999Z', '2100-01-01T00:00:00Z'])('refuses the implausible event time %s', (text) => {
    expect(() => parseEventTime(text, 'occurredAt', new Date('2099-12-31T23:59:00Z'))).toThrow(/out of range/);
  });

  it('accepts event times up to the allowed skew ahead of the injected clock, not beyond', () => {
    expect(parseEventTime('2000-01-01T00:00:00Z', 'occurredAt', now)).toBe('2000-01-01T00:00:00.000Z');
    expect(parseEventTime('2025-01-15T10:05:00Z', 'occurredAt', now)).toBe('2025-01-15T10:05:00.000Z');
    expect(() => parseEventTime('2025-01-15T10:05:00.001Z', 'occurredAt', now)).toThrow(/in the future/);
    expect(parseEventTime('2025-01-15T10:00:30Z', 'occurredAt', now, 60_000)).toBe('2025-01-15T10:00:30.000Z');
    expect(() => parseEventTime('2025-01-15T10:01:01Z', 'occurredAt', now, 60_000)).toThrow(/in the future/);
  });

  it('keeps query bounds inside 2000-2100', () => {
    expect(checkInstant(new Date('2040-01-01T00:00:00Z'), 'expiringBefore')).toBe('2040-01-01T00:00:00.000Z');
    expect(() => checkInstant(new Date('0001-01-01T00:00:00Z'), 'expiringBefore')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field: 'expiringBefore' } }));
    expect(() => checkInstant(new Date('9999-12-31T00:00:00Z'), 'to')).toThrow(/out of range/);
    expect(() => checkInstant(new Date(Number.NaN), 'from')).toThrow(/out of range/);
  });
});
