// Benchmark: events appended one command at a time (one event per append, each with the expected-
// version check) to the embedded SQLite store in a temp dir; prints events/s as JSON. Goal: >= 5,000/s.
//   node dist/bench/event-store-append.js [--events 20000] [--streams 2000] [--store sqlite|mongo]
// `--store mongo` uses MONGODB_URI, in a fresh database dropped afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { createEventStore, type EventStoreOptions } from '../messaging/store/create-event-store';
import { eventStoreFile } from '../messaging/store/sqlite-event-store';
import type { AnyNewEvent } from '../messaging/events/envelope';
import { choiceArg, machine, numberArg, percentile, runAsMain } from './report';

export interface EventStoreAppendOptions {
  readonly events: number;
  readonly streams: number;
  readonly store: 'sqlite' | 'mongo';
}

export interface EventStoreAppendResult {
  readonly benchmark: 'event-store-append';
  readonly date: string;
  readonly machine: ReturnType<typeof machine>;
  readonly settings: EventStoreAppendOptions;
  readonly events: number;
  readonly durationMs: number;
  readonly eventsPerSecond: number;
  readonly appendLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly goal: { readonly eventsPerSecond: 5000; readonly met: boolean };
}


/** The event of command `i` on a member: a creation first, profile updates after. */
function eventFor(memberId: string, version: number): AnyNewEvent {
  return version === 0
    ? { type: 'member.created', payload: { memberId, email: `${memberId}@example.org`, firstName: 'Ada', lastName: 'Lovelace', tier: 'basic' } }
    : { type: 'member.profile.updated', payload: { memberId, changes: { firstName: { before: 'Ada', after: `Ada ${version}` } } } };
}

export async function runEventStoreAppend(options: EventStoreAppendOptions): Promise<EventStoreAppendResult> {
  let storeOptions: EventStoreOptions;
  let cleanup: () => Promise<void>;
  if (options.store === 'mongo') {
    const uri = process.env.MONGODB_URI;
    if (!uri) throw new Error('--store mongo needs MONGODB_URI.');
    const dbName = `bench_event_store_${randomUUID().slice(0, 8)}`;
    storeOptions = { kind: 'mongo', uri, dbName };
    cleanup = async () => {
      const client = new MongoClient(uri);
      await client.db(dbName).dropDatabase();
      await client.close();
    };
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-event-store-'));
    storeOptions = { kind: 'sqlite', file: eventStoreFile(dir) };
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  }

  const store = await createEventStore(storeOptions);
  const versions = new Array<number>(options.streams).fill(0);
  const latencies = new Array<number>(options.events);
  try {
    const started = performance.now();
    for (let i = 0; i < options.events; i++) {
      const s = i % options.streams;
      const memberId = `m${s}`;
      const expectedVersion = versions[s] ?? 0;
      const t0 = performance.now();
      const result = await store.append(`member-${memberId}`, [eventFor(memberId, expectedVersion)], {
        expectedVersion,
        context: { correlationId: randomUUID(), actor: { id: 'bench', role: 'system' } },
      });
      latencies[i] = performance.now() - t0;
      versions[s] = result.nextExpectedVersion;
    }
    const durationMs = performance.now() - started;
    const head = await store.headPosition();
    if (head !== options.events) throw new Error(`Expected ${options.events} events in the store, found ${head}.`);
    const sorted = [...latencies].sort((a, b) => a - b);
    const eventsPerSecond = Math.round((options.events / durationMs) * 1000);
    return {
      benchmark: 'event-store-append',
      date: new Date().toISOString(),
      machine: machine(),
      settings: options,
      events: options.events,
      durationMs: Math.round(durationMs),
      eventsPerSecond,
      appendLatencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: percentile(sorted, 100) },
      goal: { eventsPerSecond: 5000, met: eventsPerSecond >= 5000 },
    };
  } finally {
    await store.close();
    await cleanup();
  }
}

if (require.main === module) {
  runAsMain(() =>
    runEventStoreAppend({
      events: numberArg('events', 20_000),
      streams: numberArg('streams', 2_000),
      store: choiceArg('store', ['sqlite', 'mongo'] as const, 'sqlite'),
    }),
  );
}
