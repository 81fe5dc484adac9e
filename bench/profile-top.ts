// The top self-time functions of a V8 CPU profile (`node --cpu-prof`), as BENCHMARKS.md reports
// them: self time per function (name, file and line), with its share of the profile's busy time
// (idle apart), and self time per package (type-graphql's own share, say).
//   node dist/bench/profile-top.js <file.cpuprofile> [--top 15]
import fs from 'node:fs';
import path from 'node:path';
import { numberArg } from './report';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export function topSelfTime(profile: CpuProfile, top: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  /** Self time per package (node_modules/<name>), `(ours)` for the repository's code, `(node)` for Node's own. */
  const packageUs = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i] as number);
    const delta = profile.timeDeltas[i] ?? 0;
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += delta;
      continue;
    }
    total += delta;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? (url.startsWith('node:') || url === '' ? '(node)' : '(ours)');
    packageUs.set(pkg, (packageUs.get(pkg) ?? 0) + delta);
    const file = url ? url.replace(/^file:\/\//, '').split(`${path.sep}node_modules${path.sep}`).pop() ?? url : '';
    const key = `${functionName || '(anonymous)'} ${file ? `${path.relative(process.cwd(), file).startsWith('..') ? file : path.relative(process.cwd(), file)}:${lineNumber + 1}` : ''}`.trim();
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
  }
  const rows = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ function: fn, selfMs: Math.round(us / 1000), share: `${((100 * us) / total).toFixed(1)} %` }));
  const packages = [...packageUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ package: name, selfMs: Math.round(us / 1000), share: `${((100 * us) / total).toFixed(1)} %` }));
  return { busyMs: Math.round(total / 1000), idleMs: Math.round(idle / 1000), top: rows, packages };
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/bench/profile-top.js <file.cpuprofile> [--top 15]');
    process.exit(2);
  }
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  console.log(JSON.stringify(topSelfTime(profile, numberArg('top', 15)), null, 2));
}
