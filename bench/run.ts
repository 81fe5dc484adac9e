// `npm run bench`: runs every benchmark in its own process, one after the other (they share two
// cores), prints each result and a summary, and writes them all to bench/results/latest.json.
//   npm run bench [-- --only pipeline,event-store-append]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { arg, machine } from './report';
import { NODE_FLAGS } from '../platform/node-flags';

/**
 * Benchmark scripts (dist/bench/<name>.js) with the arguments of the documented run.
 * `nodeArgs`: V8 flags of the benchmark's own process. The subscription benchmark's process is the
 * load generator and every subscriber (200 to 5,000 connections): with V8's default young
 * generation it scavenged every 2.5 s for 8-22 ms at 200 mutations/s, and a pause there delays the
 * arrival times it records, for every gateway alike. It runs with the gateway's flags (scavenges
 * every 6 s, 6-11 ms).
 */
const benchmarks: readonly { name: string; args: string[]; needs?: 'hive'; nodeArgs?: readonly string[] }[] = [
  { name: 'event-store-append', args: ['--events', '20000', '--streams', '2000'] },
  { name: 'bus-throughput', args: ['--events', '20000'] },
  { name: 'pipeline', args: ['--events', '20000', '--writers', '100', '--paced-events', '10000', '--rate', '1000'] },
  { name: 'saga-throughput', args: ['--orders', '3000', '--concurrency', '200', '--processes', '2'] },
  { name: 'analytics-throughput', args: [] },
  { name: 'replay-throughput', args: [] },
  { name: 'tracing-overhead', args: ['--orders', '400', '--concurrency', '20', '--rounds', '2'] },
  {
    name: 'subscription-latency',
    args: ['--rate', '200', '--low-rate', '50', '--seconds', '10', '--members', '200', '--subscribers', '5000', '--fanout-events', '10', '--rounds', '2', '--gateways', 'ours,hive', '--transports', 'ws,sse,multipart'],
    needs: 'hive',
    nodeArgs: NODE_FLAGS,
  },
  {
    name: 'gateway-queries',
    args: ['--members', '50', '--seconds', '10', '--warm-seconds', '3', '--connections', '50', '--rounds', '2', '--gateways', 'ours,hive,hive-cores,ours-1p-http,ours-1p'],
    needs: 'hive',
  },
];

const repoRoot = path.resolve(__dirname, '..', '..');

/**
 * Hive Gateway (the subscription and query benchmarks' comparison) is a bench-only package with its own
 * lockfile: installed here, when a benchmark needs it and the install is missing or stale, so the
 * product's `npm ci` stays without it.
 */
function ensureHive(): boolean {
  const dir = path.join(repoRoot, 'bench', 'hive');
  const installed = path.join(dir, 'node_modules', '.package-lock.json');
  const lock = path.join(dir, 'package-lock.json');
  if (fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs) return true;
  console.error('\n== installing Hive Gateway into bench/hive (npm ci)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const install = spawnSync(npm, ['ci', '--prefix', dir, '--ignore-scripts', '--no-audit', '--no-fund'], { stdio: ['ignore', 2, 'inherit'] });
  if (install.status !== 0) console.error('Hive Gateway could not be installed: the comparison is skipped.');
  return install.status === 0;
}

/** The benchmark's JSON: all of stdout, or its last pretty-printed object if logs came first. */
function resultOf(stdout: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch {
    const start = stdout.lastIndexOf('\n{\n');
    if (start < 0) throw new Error('no JSON object');
    return JSON.parse(stdout.slice(start + 1));
  }
}

function main(): void {
  const onlyArg = arg('only');
  const only = onlyArg === undefined ? null : new Set(onlyArg.split(',').map((name) => name.trim()));
  const unknown = [...(only ?? [])].filter((name) => !benchmarks.some((b) => b.name === name));
  if (unknown.length > 0) {
    console.error(`--only: no benchmark named ${unknown.join(', ')} (there are ${benchmarks.map((b) => b.name).join(', ')}).`);
    process.exit(2);
  }
  const results: Record<string, unknown> = {};
  for (const bench of benchmarks) {
    if (only && !only.has(bench.name)) continue;
    const script = path.join(__dirname, `${bench.name}.js`);
    if (!fs.existsSync(script)) continue;
    if (bench.needs === 'hive') ensureHive();
    console.error(`\n== ${bench.name} ${bench.args.join(' ')}`);
    const run = spawnSync(process.execPath, [...(bench.nodeArgs ?? []), script, ...bench.args], {
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
      const result = resultOf(run.stdout);
      results[bench.name] = result;
      console.log(JSON.stringify(result, null, 2));
    } catch {
      results[bench.name] = { error: 'no JSON result', output: run.stdout.slice(-2000) };
    }
  }
  const outDir = path.join(repoRoot, 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const report = { date: new Date().toISOString(), machine: machine(), results };
  fs.writeFileSync(path.join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.error(`\nWrote bench/results/latest.json (${Object.keys(results).length} benchmarks).`);
}

main();
