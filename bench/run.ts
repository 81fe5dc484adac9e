// `npm run bench`: runs every benchmark in its own process, one after the other (they share two
// cores), prints each result and a summary, and writes them all to bench/results/latest.json.
//   npm run bench [-- --only pipeline,event-store-append]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { machine } from './report';

/** Benchmark scripts (dist/bench/<name>.js) with the arguments of the documented run. */
const benchmarks: readonly { name: string; args: string[]; needs?: string }[] = [
  { name: 'event-store-append', args: ['--events', '20000', '--streams', '2000'] },
  { name: 'bus-throughput', args: ['--events', '20000'] },
  { name: 'pipeline', args: ['--events', '20000', '--paced-events', '10000', '--rate', '1000'] },
  { name: 'saga-throughput', args: [] },
  { name: 'analytics-throughput', args: [] },
  { name: 'replay-throughput', args: [] },
  { name: 'subscription-latency', args: [] },
];

function main(): void {
  const onlyIndex = process.argv.indexOf('--only');
  const only = onlyIndex >= 0 ? new Set((process.argv[onlyIndex + 1] ?? '').split(',')) : null;
  const results: Record<string, unknown> = {};
  for (const bench of benchmarks) {
    if (only && !only.has(bench.name)) continue;
    const script = path.join(__dirname, `${bench.name}.js`);
    if (!fs.existsSync(script)) continue;
    console.error(`\n== ${bench.name} ${bench.args.join(' ')}`);
    const run = spawnSync(process.execPath, [script, ...bench.args], {
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (run.status !== 0) {
      results[bench.name] = { error: `exited with ${run.status}` };
      console.error(`${bench.name} failed (exit ${run.status})`);
      continue;
    }
    try {
      results[bench.name] = JSON.parse(run.stdout);
      console.log(run.stdout.trim());
    } catch {
      results[bench.name] = { error: 'no JSON result', output: run.stdout.slice(-2000) };
    }
  }
  const outDir = path.resolve(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const report = { date: new Date().toISOString(), machine: machine(), results };
  fs.writeFileSync(path.join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.error(`\nWrote bench/results/latest.json (${Object.keys(results).length} benchmarks).`);
}

main();
