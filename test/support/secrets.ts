// Secrets for tests that run in production mode: random each run, so none is ever a literal in the
// repository (production refuses those: platform/published-secrets.ts).
import { randomBytes } from 'node:crypto';

export function randomSecret(): string {
  return randomBytes(32).toString('hex');
}
