// The README's configuration table lists exactly the variables the config module knows.
import fs from 'node:fs';
import path from 'node:path';
import { variables } from '../../platform/config';

describe('README', () => {
  it('documents every configuration variable, and no unknown one', () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'));
    const documented = [...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(new Set(documented)).toEqual(new Set(Object.keys(variables)));
  });
});
