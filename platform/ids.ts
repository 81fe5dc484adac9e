// Deterministic ids: the same name always gives the same UUID (RFC 4122 version 5 layout over
// SHA-1), so an event a consumer emits for a given input has one id however often it runs.
import { createHash } from 'node:crypto';

export function deterministicUuid(name: string): string {
  const hash = createHash('sha1').update(`membership:${name}`).digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
