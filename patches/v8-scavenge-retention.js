// Shows the V8 behaviour behind patches/rabbitmq-client+5.0.8.patch and item 3 of the
// @apollo/server patch: on Node 20 (V8 11.3), objects built by an object spread followed by more
// keys, or object literals with a getter of their own, survive young-generation collections after
// their last use, with everything they reference, and are promoted to the old generation. Nothing
// keeps them: each is dropped as soon as it is made.
//
//   node patches/v8-scavenge-retention.js
//
// prints, for each way of building the object, the bytes promoted per scavenge (from V8's
// --trace-gc-nvp) while 1,000 objects a second, each holding 800 bytes of data, are built and dropped.
'use strict';
const { spawnSync } = require('node:child_process');

const shapes = {
  'spread, spread': (data, i) => ({ ...base, ...extra, data, i }),
  'spread, new keys': (data, i) => ({ ...base, data, i }),
  'getter literal': (data, i) => ({ i, get data() { return data; } }),
  'Object.assign + keys': (data, i) => { const o = Object.assign({}, base, extra); o.data = data; o.i = i; return o; },
  'class getter': (data, i) => new WithGetter(data, i),
  'spread, same keys': (data, i) => { const source = { data, i: 0 }; return { ...source, i }; },
};
const base = { consumerTag: 'ctag-1', deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q' };
const extra = { contentType: 'application/json', deliveryMode: 1, timestamp: 1 };
class WithGetter {
  #data;
  constructor(data, i) { this.#data = data; this.i = i; }
  get data() { return this.#data; }
}

if (process.argv[2] === '--child') {
  const make = shapes[process.argv[3]];
  let sink = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < 10; i++) sink += make(new Array(100).fill(i), i).i; // made and dropped
  }, 10);
  setTimeout(() => { clearInterval(timer); process.exitCode = sink === -1 ? 1 : 0; }, 6000);
} else {
  for (const name of Object.keys(shapes)) {
    const run = spawnSync(process.execPath, ['--trace-gc-nvp', '--max-semi-space-size=64', __filename, '--child', name], { encoding: 'utf8' });
    const promoted = [...run.stdout.matchAll(/gc=s .*? promoted=(\d+)/g)].map((m) => Number(m[1])).slice(2); // start-up left out
    const mean = promoted.length ? promoted.reduce((a, b) => a + b, 0) / promoted.length : NaN;
    console.log(`${name.padEnd(22)} ${(mean / 1024).toFixed(0).padStart(6)} KiB promoted per scavenge (${promoted.length} scavenges)`);
  }
}
