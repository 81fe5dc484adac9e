// V8 flags the gateway's process runs with, wherever it runs: `npm start` (package.json), the
// Dockerfile, the gateway service of docker-compose.yml and the subscription benchmark (a test
// keeps package.json, the Dockerfile and compose equal to this list; the benchmark imports it).
//
// A larger young generation: a subscription event fanned out to thousands of WebSockets allocates a
// message, frames and write requests per subscriber, all dead a moment later. With V8's default
// semi-space (16 MiB on 64-bit) those fan-outs ran scavenge after scavenge, a sixth of the
// gateway's CPU; with 64 MiB, fan-out to 5,000 subscribers used about a fifth less CPU and its p99
// fell from 281-446 ms to 222-268 ms (BENCHMARKS.md). The space grows only under such load: an idle
// gateway's memory is unchanged, a busy one holds up to about 128 MiB more.
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
