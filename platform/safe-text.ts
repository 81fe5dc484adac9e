// Free text that is shown to people (in emails, other members' screens, logs) may hold any letters,
// marks and emoji of any script, but no control characters (C0, DEL, C1: NUL cuts strings short,
// CR/LF inject lines), no bidirectional embedding, override or isolate controls (U+202A-U+202E,
// U+2066-U+2069: they reorder what a reader sees, "Trojan Source"), and no unpaired surrogate (not
// text at all: encoders replace or reject it).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function codePointName(unit: number): string {
  return `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** What is wrong with `text` as free text ("U+202E, a bidirectional control"), or null when nothing is. */
export function unsafeCharacterIn(text: string): string | null {
  const found = UNSAFE.exec(text);
  if (!found) return null;
  const unit = found[0].charCodeAt(0);
  if (unit >= 0xd800 && unit <= 0xdfff) return `${codePointName(unit)}, an unpaired surrogate`;
  if (unit >= 0x202a) return `${codePointName(unit)}, a bidirectional control`;
  return `${codePointName(unit)}, a control character`;
}
