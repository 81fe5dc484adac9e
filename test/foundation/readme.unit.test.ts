// The README's configuration table is the one printed from the config schema (scripts/config-table.ts).
import fs from 'node:fs';
import path from 'node:path';
import { configTable, readmeTable } from '../../scripts/config-table';

describe('README', () => {
  it('has the configuration table the config schema prints (run `npm run config-table -- --write` if not)', () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(readmeTable(readme)).toBe(configTable());
  });
});
