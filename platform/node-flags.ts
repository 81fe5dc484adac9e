// V8 flags every process of the product runs with, wherever it runs: `npm start` (package.json), the
// Dockerfile, every service of docker-compose.yml and of deploy/kubernetes (the gateway, each
// subgraph, the worker) and the benchmarks (tests keep package.json, the Dockerfile, compose and
// Kubernetes equal to this list; the benchmarks import it). The process the benchmarks measure is
// the all-in-one of `npm start`; a deployment splits the same work over several processes, each
// with the same allocation pattern, so each keeps the same flags.
//
// A larger young generation: a subscription event fanned out to thousands of WebSockets allocates a
// message, frames and write requests per subscriber, all dead a moment later. With V8's default
// semi-space (16 MiB on 64-bit) those fan-outs ran scavenge after scavenge, a sixth of the
// gateway's CPU; with 64 MiB, fan-out to 5,000 subscribers used about a fifth less CPU and its p99
// fell from 281-446 ms to 222-268 ms (BENCHMARKS.md). The space grows only under such load: an idle
// gateway's memory is unchanged, a busy one holds up to about 128 MiB more.
//
// A larger old-generation growth step: V8 starts a full (mark-compact) GC once the old generation
// has grown past its size after the last one times a factor that it picks itself, about 1.1 to 1.3
// for a process like this one (much code, little data, fast collections). Under a steady load of
// 200 mutations/s the product's process promotes about 1 MiB per scavenge, so it ran a full GC every
// 10-15 s, and each one's pause (10-29 ms, most of it evacuating the young generation) was the p99
// of mutation-to-subscriber latency wherever it fell. A factor of 2 (`--heap-growing-percent=100`)
// makes them about five times rarer (one a minute at that load; BENCHMARKS.md, issue 19) for about
// 50 MiB more resident memory at that load.
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64', '--heap-growing-percent=100'];
