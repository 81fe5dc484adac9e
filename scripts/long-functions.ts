// Lists the functions longer than a limit, longest first, so a review can hold the cores to short
// named parts: `npm run build:server && node dist/scripts/long-functions.js 80 messaging gateway`.
// A nested function is counted on its own as well as inside its parent.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

interface LongFunction {
  readonly lines: number;
  readonly at: string;
  readonly name: string;
}

function nameOf(node: ts.FunctionLikeDeclaration): string {
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText();
  if (ts.isCallExpression(parent)) return `<callback of ${parent.expression.getText().slice(0, 40)}>`;
  return '<anonymous>';
}

function longFunctionsIn(file: string, limit: number): LongFunction[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const last = source.getLineAndCharacterOfPosition(node.end).line;
      const lines = last - first + 1;
      if (lines > limit) found.push({ lines, at: `${file}:${first + 1}`, name: nameOf(node as ts.FunctionLikeDeclaration) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function sourcesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : sourcesUnder(full);
    return full.endsWith('.ts') && !full.endsWith('.d.ts') ? [full] : [];
  });
}

const [limitArg, ...dirs] = process.argv.slice(2);
const limit = Number(limitArg);
if (!Number.isInteger(limit) || dirs.length === 0) {
  console.error('usage: node dist/scripts/long-functions.js <lines> <dir>...');
  process.exit(2);
}
const all = dirs.flatMap(sourcesUnder).flatMap((file) => longFunctionsIn(file, limit));
for (const f of all.sort((a, b) => b.lines - a.lines)) console.log(`${f.lines}\t${f.at}\t${f.name}`);
