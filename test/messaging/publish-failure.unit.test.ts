// Which publish failures the outbox relay parks (the event itself) and which it retries (the bus).
import { AMQPChannelError, AMQPConnectionError, AMQPError } from 'rabbitmq-client';
import { classifyPublishFailure, serialiseForPublish, UnpublishableEventsError, unpublishableIn } from '../../messaging/bus/publish-failure';
import { DomainError, EventContractError } from '../../platform/errors';

/** rabbitmq-client's errors, made as the library makes them (their constructor is internal). */
function amqp(kind: typeof AMQPError, code: string, message: string): Error {
  return new (kind as unknown as new (code: string, message: string) => Error)(code, message);
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('publish failure classification', () => {
  it('calls failures about the event itself permanent', () => {
    // What rabbitmq-client's encoder threw for an AMQP timestamp before 1970.
    expect(classifyPublishFailure(thrown(() => Buffer.alloc(8).writeBigUint64BE(-62135596800n)))).toBe('permanent');
    expect(classifyPublishFailure(thrown(() => JSON.stringify({ n: 1n })))).toBe('permanent');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(classifyPublishFailure(thrown(() => JSON.stringify(circular)))).toBe('permanent');
    expect(classifyPublishFailure(new UnpublishableEventsError([{ eventId: 'e1', reason: 'too large' }]))).toBe('permanent');
    expect(classifyPublishFailure(new EventContractError('INVALID_EVENT', 'bad payload'))).toBe('permanent');
    expect(classifyPublishFailure(amqp(AMQPChannelError, 'PRECONDITION_FAILED', 'PRECONDITION_FAILED - message size 200000000 is larger than configured max size 134217728'))).toBe('permanent');
  });

  it('calls failures of the bus or the moment transient: the relay keeps order and retries', () => {
    expect(classifyPublishFailure(new DomainError('UNAVAILABLE', 'RabbitMQ did not confirm 3 of 3 events'))).toBe('transient');
    expect(classifyPublishFailure(amqp(AMQPChannelError, 'CH_CLOSE', 'channel is closed'))).toBe('transient');
    expect(classifyPublishFailure(amqp(AMQPConnectionError, 'CONNECTION_CLOSED', 'socket closed'))).toBe('transient');
    expect(classifyPublishFailure(amqp(AMQPError, 'NACK', 'message rejected by server'))).toBe('transient');
    expect(classifyPublishFailure(amqp(AMQPChannelError, 'PRECONDITION_FAILED', 'inequivalent arg durable for exchange events'))).toBe('transient');
    expect(classifyPublishFailure(new Error('connect ECONNREFUSED 127.0.0.1:5672'))).toBe('transient');
    expect(classifyPublishFailure('something odd')).toBe('transient');
  });

  it('serialises every event before sending, naming each one too large or not serialisable', () => {
    const small = { id: 'a', payload: 'x' };
    expect(serialiseForPublish([small], 100)).toEqual([JSON.stringify(small)]);
    const error = thrown(() => serialiseForPublish([small, { id: 'b', payload: 'y'.repeat(200) }, { id: 'c', payload: 1n } as never], 100));
    expect(error).toBeInstanceOf(UnpublishableEventsError);
    expect((error as UnpublishableEventsError).events).toEqual([
      { eventId: 'b', reason: expect.stringMatching(/^\d+ bytes, more than the 100/) },
      { eventId: 'c', reason: expect.stringMatching(/not serialisable/) },
    ]);
    expect(unpublishableIn(error, [{ id: 'c' }]).map((e) => e.eventId)).toEqual(['c']);
    expect(unpublishableIn(new Error('x'), [{ id: 'c' }])).toEqual([]);
  });
});
