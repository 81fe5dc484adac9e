// Prints the README's configuration table from the config schema (platform/config.ts), so the docs
// never restate a default: `npm run config-table` prints it, `-- --write` replaces it in README.md.
import fs from 'node:fs';
import path from 'node:path';
import { documentedVariables } from '../platform/config';

const HEADER = ['| Variable | Default | Meaning |', '| --- | --- | --- |'];

/** A default shown as plain text (not code): markdown's own characters escaped. */
const plain = (text: string) => text.replace(/[*|]/g, (c) => `\\${c}`).replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function configTable(): string {
  const rows = documentedVariables().map((v) => `| \`${v.name}\` | ${plain(v.default)} | ${v.description.replace(/\|/g, '\\|')} |`);
  return [...HEADER, ...rows].join('\n');
}

/** The table as README.md has it: from its header line to the first line that is not a row. */
export function readmeTable(readme: string): string {
  const lines = readme.split('\n');
  const start = lines.indexOf(HEADER[0] as string);
  if (start < 0) throw new Error('README.md has no configuration table');
  let end = start;
  while (end < lines.length && lines[end]?.startsWith('|')) end++;
  return lines.slice(start, end).join('\n');
}

if (require.main === module) {
  if (process.argv.includes('--write')) {
    // npm runs scripts in the package's root.
    const readmePath = path.resolve('README.md');
    const readme = fs.readFileSync(readmePath, 'utf8');
    fs.writeFileSync(readmePath, readme.replace(readmeTable(readme), configTable()));
  } else {
    console.log(configTable());
  }
}
