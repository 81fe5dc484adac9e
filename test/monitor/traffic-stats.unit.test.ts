// Traffic per type written behind to shared documents: processes' counts add up, and a failed write
// keeps the counts for the next one.
import pino from 'pino';
import type { DeliverySettlement } from '../../messaging/bus/event-bus';
import { readTraffic, TrafficRecorder } from '../../messaging/monitor/traffic-stats';
import type { DocumentStore } from '../../messaging/state/document-store';
import { createDocumentStore } from '../../messaging/state/create-document-store';
import { ManualClock } from '../../platform/clock';
import { makeEnvelope } from '../support/envelopes';

const logger = pino({ level: 'silent' });
const settled = (type: string, outcome: DeliverySettlement['outcome']): DeliverySettlement => ({ queue: 'q', eventId: 'e', type, outcome, attempt: 1 });

describe('event traffic counts', () => {
  it("adds up every process's counts per type", async () => {
    const documents = createDocumentStore({ kind: 'memory' });
    const clock = new ManualClock();
    const worker = new TrafficRecorder(documents, clock, logger);
    const subgraph = new TrafficRecorder(documents, clock, logger);
    worker.observer.published?.(makeEnvelope('sync.completed'));
    worker.observer.published?.(makeEnvelope('sync.completed'));
    worker.observer.settled?.(settled('member.created', 'ack'));
    worker.observer.settled?.(settled('member.created', 'retry'));
    subgraph.observer.settled?.(settled('member.created', 'ack'));
    subgraph.observer.settled?.(settled('member.created', 'dead-letter'));
    await Promise.all([worker.flush(), subgraph.flush()]);
    expect(await readTraffic(documents)).toEqual([
      { type: 'member.created', published: 0, consumed: 2, retried: 1, deadLettered: 1 },
      { type: 'sync.completed', published: 2, consumed: 0, retried: 0, deadLettered: 0 },
    ]);
    // Later counts add to what is stored; closing writes what is left.
    worker.observer.published?.(makeEnvelope('sync.completed'));
    await worker.close();
    expect((await readTraffic(documents)).find((t) => t.type === 'sync.completed')?.published).toBe(3);
  });

  it('keeps the counts of a failed write for the next one', async () => {
    const documents = createDocumentStore({ kind: 'memory' });
    let down = true;
    const flaky: DocumentStore = {
      collection: (name, options) => {
        const real = documents.collection(name, options);
        return Object.assign(Object.create(real) as typeof real, {
          update: (...args: Parameters<typeof real.update>) => (down ? Promise.reject(new Error('store unreachable')) : real.update(...args)),
        });
      },
      close: () => documents.close(),
    };
    const recorder = new TrafficRecorder(flaky, new ManualClock(), logger);
    recorder.observer.published?.(makeEnvelope('email.sent'));
    await recorder.flush();
    expect(await readTraffic(documents)).toEqual([]);
    down = false;
    recorder.observer.published?.(makeEnvelope('email.sent'));
    await recorder.close();
    expect(await readTraffic(documents)).toEqual([{ type: 'email.sent', published: 2, consumed: 0, retried: 0, deadLettered: 0 }]);
  });
});
