// Production refuses any secret anyone can read: the development defaults even when passed
// explicitly, every secret literal written anywhere in this repository (found by scanning it, so a
// new one fails here until platform/published-secrets.ts lists it), and too regular ones.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../platform/config';
import { DEVELOPMENT_JWT_SECRET, DEVELOPMENT_SUBGRAPH_SECRET } from '../../platform/published-secrets';
import { randomSecret } from '../support/secrets';

const ROOT = path.resolve(__dirname, '..', '..');
const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', 'data', 'coverage', '.git', 'results']);
const SCANNED = /\.(ts|js|json|ya?ml|md|sh|env)$|^Dockerfile$|^run$/;

function repositoryFiles(dir = ROOT): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED_DIRECTORIES.has(entry.name) ? [] : repositoryFiles(full);
    return SCANNED.test(entry.name) && entry.name !== 'package-lock.json' ? [full] : [];
  });
}

// A literal long enough to pass as a secret (32+ characters, no spaces, not a template) on a line
// that speaks of secrets; or a value given to a *_SECRET variable in shell or env syntax.
const QUOTED = /(['"`])([^\s'"`]{32,})\1/g;
const ASSIGNED = /_SECRET=([^\s'"`$]{32,})/g;

function secretLiterals(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of repositoryFiles()) {
    fs.readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        const where = `${path.relative(ROOT, file)}:${index + 1}`;
        if (/secret/i.test(line) && !/^\s*(import|export .* from)\b/.test(line)) {
          for (const [, , literal] of line.matchAll(QUOTED)) {
            // Tokens signed with a secret are not secrets (a JWT starts with its header, eyJ...).
            if (literal && !literal.startsWith('eyJ') && !literal.includes('${')) found.set(literal, where);
          }
        }
        for (const [, value] of line.matchAll(ASSIGNED)) if (value) found.set(value, where);
      });
  }
  return found;
}

function productionWith(variable: 'JWT_SECRET' | 'SUBGRAPH_SECRET', value: string) {
  return () => loadConfig({ NODE_ENV: 'production', JWT_SECRET: randomSecret(), SUBGRAPH_SECRET: randomSecret(), [variable]: value });
}

describe('production secrets', () => {
  it.each([
    ['JWT_SECRET', DEVELOPMENT_JWT_SECRET],
    ['SUBGRAPH_SECRET', DEVELOPMENT_SUBGRAPH_SECRET],
    ['JWT_SECRET', DEVELOPMENT_SUBGRAPH_SECRET],
  ] as const)('refuses %s set explicitly to a development default, naming the variable', (variable, value) => {
    expect(productionWith(variable, value)).toThrow(ConfigError);
    expect(productionWith(variable, value)).toThrow(new RegExp(`${variable}: is a development default`));
  });

  it('still takes the development defaults outside production, and says so', () => {
    expect(loadConfig({ NODE_ENV: 'development', JWT_SECRET: DEVELOPMENT_JWT_SECRET }).usingDevelopmentSecrets).toBe(true);
  });

  it.each(['x'.repeat(32), 'j'.repeat(64), '0123456'.repeat(6), 'abababababababababababababababab'])('refuses a guessable secret (%s)', (value) => {
    expect(productionWith('SUBGRAPH_SECRET', value)).toThrow(/SUBGRAPH_SECRET: has fewer than 8 different characters/);
  });

  it('takes a random secret', () => {
    const jwt = randomSecret();
    expect(productionWith('JWT_SECRET', jwt)().JWT_SECRET).toBe(jwt);
  });

  it('finds the secret literals of the repository, the development defaults among them', () => {
    const literals = secretLiterals();
    expect(literals.has(DEVELOPMENT_JWT_SECRET)).toBe(true);
    expect(literals.has(DEVELOPMENT_SUBGRAPH_SECRET)).toBe(true);
    expect(literals.size).toBeGreaterThan(4);
  });

  it('refuses every secret literal written in the repository, as either secret', () => {
    const accepted: string[] = [];
    for (const [literal, where] of secretLiterals()) {
      for (const variable of ['JWT_SECRET', 'SUBGRAPH_SECRET'] as const) {
        try {
          productionWith(variable, literal)();
          accepted.push(`${where}: ${literal} (as ${variable})`);
        } catch (error) {
          if (!(error instanceof ConfigError) || error.variable !== variable) throw error;
        }
      }
    }
    // Each one found here belongs in platform/published-secrets.ts (or the test should make a random one).
    expect(accepted).toEqual([]);
  });
});
