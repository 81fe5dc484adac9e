// `npm run compose`: writes supergraph.graphql from the subgraphs, printing errors and hints, and
// what the new API schema breaks (or may change) for clients compared with the committed file.
// `--check` only compares and exits 1 when the committed file is stale.
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { composeSupergraph } from './composition';
import { apiChanges, formatApiChanges } from './api-changes';

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const target = path.resolve(__dirname, '..', '..', 'supergraph.graphql');
  const outcome = await composeSupergraph();
  for (const hint of outcome.hints) console.log(`hint: ${hint}`);
  if (!outcome.supergraphSdl) {
    console.error(`Composition failed with ${outcome.errors.length} error(s):`);
    for (const error of outcome.errors) console.error(`  - ${error}`);
    process.exit(1);
  }
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
  if (current !== '') {
    for (const line of formatApiChanges(await apiChanges(current, outcome.supergraphSdl))) console.log(line);
  }
  if (check) {
    if (current !== outcome.supergraphSdl) {
      console.error('supergraph.graphql is stale: run `npm run compose` and commit it.');
      process.exit(1);
    }
    console.log('supergraph.graphql is up to date.');
    return;
  }
  fs.writeFileSync(target, outcome.supergraphSdl);
  console.log(current === outcome.supergraphSdl ? 'supergraph.graphql unchanged.' : 'supergraph.graphql written.');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
