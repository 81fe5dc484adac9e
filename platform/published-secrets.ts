// Secrets anyone can read, because they are written in this repository (the development defaults,
// tests, examples), and secrets too regular to be secret: production refuses them all as JWT_SECRET
// or SUBGRAPH_SECRET. test/foundation/published-secrets.unit.test.ts scans the repository for
// secret literals and fails when one is not refused, so a new one is listed here as it is written.

/** Used when JWT_SECRET / SUBGRAPH_SECRET are unset outside production (loudly). */
export const DEVELOPMENT_JWT_SECRET = 'dev-only-jwt-secret-change-me-0123456789';
export const DEVELOPMENT_SUBGRAPH_SECRET = 'dev-only-subgraph-secret-change-me-0123456789';

const publishedSecrets: ReadonlySet<string> = new Set([
  DEVELOPMENT_JWT_SECRET,
  DEVELOPMENT_SUBGRAPH_SECRET,
  // Tests, past and present (git history keeps them public).
  'test-secret-that-is-long-enough-0123456789',
  'another-secret-that-is-long-enough-0123456789',
  'another-secret-that-is-long-enough-0000',
  'subgraph-secret-for-tests-0123456789abcdef',
  'production-jwt-secret-for-tests-0123456789',
  'production-subgraph-secret-for-tests-012345',
]);

/** A secret with fewer different characters is a pattern ('x' repeated, '0123...'), not a secret. */
const MIN_DISTINCT_CHARACTERS = 8;

/** Why `value` cannot be a production secret, or null when nothing is known against it. */
export function publishedSecretProblem(value: string): string | null {
  if (value === DEVELOPMENT_JWT_SECRET || value === DEVELOPMENT_SUBGRAPH_SECRET) {
    return 'is a development default, published in this repository: set a secret of your own (e.g. openssl rand -hex 32).';
  }
  if (publishedSecrets.has(value)) return 'is published in this repository (a test or an example): set a secret of your own (e.g. openssl rand -hex 32).';
  if (new Set(value).size < MIN_DISTINCT_CHARACTERS) {
    return `has fewer than ${MIN_DISTINCT_CHARACTERS} different characters, so it is guessable: set a random secret (e.g. openssl rand -hex 32).`;
  }
  return null;
}
