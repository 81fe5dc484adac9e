// Free text shown to people: any script, mark or emoji, but no control character, no bidirectional
// control and no unpaired surrogate.
import { unsafeCharacterIn } from '../../platform/safe-text';

describe('unsafeCharacterIn', () => {
  it.each(['Ada', 'Zoë', 'José-María', "O'Brien", 'محمد', '山田', 'Ada 😀', 'Ångström', 'e\u0301'])('takes %s', (text) => {
    expect(unsafeCharacterIn(text)).toBeNull();
  });

  it.each([
    ['a NUL', 'Ada\u0000Lovelace', 'U+0000, a control character'],
    ['a line feed inside', 'Ada\nBcc: x@example.org', 'U+000A, a control character'],
    ['DEL', 'Ada\u007f', 'U+007F, a control character'],
    ['a C1 control', 'Ada\u0085', 'U+0085, a control character'],
    ['a right-to-left override', 'Ada\u202Egpj.exe', 'U+202E, a bidirectional control'],
    ['a left-to-right embedding', '\u202AAda', 'U+202A, a bidirectional control'],
    ['a first-strong isolate', 'Ada\u2068', 'U+2068, a bidirectional control'],
    ['a pop directional isolate', 'Ada\u2069', 'U+2069, a bidirectional control'],
    ['a lone high surrogate', 'Ada\ud83d', 'U+D83D, an unpaired surrogate'],
    ['a lone low surrogate', '\ude00Ada', 'U+DE00, an unpaired surrogate'],
    ['surrogates in the wrong order', 'Ada\ude00\ud83d', 'U+DE00, an unpaired surrogate'],
  ])('refuses %s, naming it', (_what, text, found) => {
    expect(unsafeCharacterIn(text)).toBe(found);
  });
});
