// AMQP topic matching as RabbitMQ does it: `*` one word, `#` zero or more, dot-separated words.
import fc from 'fast-check';
import { assertTopicPattern, matchesTopic, TopicBindings } from '../../messaging/bus/topic-pattern';

describe('matchesTopic', () => {
  it.each([
    ['member.created', 'member.created', true],
    ['member.created', 'member.updated', false],
    ['member.*', 'member.created', true],
    ['member.*', 'member.profile.updated', false],
    ['member.*', 'member', false],
    ['member.*', 'membership.renewed', false],
    ['*.completed', 'sync.completed', true],
    ['*.completed', 'sync.job.completed', false],
    ['#.completed', 'sync.job.completed', true],
    ['#.completed', 'completed', true],
    ['#', 'anything.at.all', true],
    ['#', 'x', true],
    ['member.#', 'member', true],
    ['member.#', 'member.profile.updated', true],
    ['member.#', 'membership.renewed', false],
    ['certification.#.activated', 'certification.activated', true],
    ['certification.#.activated', 'certification.x.y.activated', true],
    ['certification.#.activated', 'certification.x.y.expired', false],
    ['*.*', 'member.created', true],
    ['*.*', 'member.profile.updated', false],
    ['#.#.#', 'a.b', true],
    ['a.#.#.b', 'a.b', true],
  ])('%s against %s is %s', (pattern, key, expected) => {
    expect(matchesTopic(pattern, key)).toBe(expected);
  });

  it('matches every key of the same words exactly, and # matches everything (property)', () => {
    const word = fc.stringMatching(/^[a-z]{1,5}$/);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (words) => {
        const key = words.join('.');
        expect(matchesTopic(key, key)).toBe(true);
        expect(matchesTopic('#', key)).toBe(true);
        expect(matchesTopic(words.map(() => '*').join('.'), key)).toBe(true);
        expect(matchesTopic([...words.map(() => '*'), '*'].join('.'), key)).toBe(false);
      }),
    );
  });

  it('stays fast on patterns full of #', () => {
    const key = Array.from({ length: 40 }, (_, i) => `w${i}`).join('.');
    expect(matchesTopic('#.#.#.#.#.#.#.#.#.#.nope', key)).toBe(false);
    expect(matchesTopic('#.x.#.y.#.z.#', key)).toBe(false);
  });
});

describe('assertTopicPattern', () => {
  it('refuses a pattern with an empty word', () => {
    expect(() => assertTopicPattern('member..created')).toThrow(/empty word/);
    expect(() => assertTopicPattern('.member')).toThrow(/empty word/);
  });

  it('accepts words, * and #', () => {
    expect(() => assertTopicPattern('member.*.#')).not.toThrow();
  });
});

describe('TopicBindings', () => {
  it('matches when any binding matches, and sees bindings added later', () => {
    const bindings = new TopicBindings();
    bindings.add('member.*');
    expect(bindings.matches('sync.completed')).toBe(false);
    bindings.add('*.completed');
    expect(bindings.matches('sync.completed')).toBe(true);
    expect(bindings.matches('member.created')).toBe(true);
    expect(bindings.list()).toEqual(['member.*', '*.completed']);
  });
});
