// The live exchange's name (RABBITMQ_EXCHANGE) and temporary topic names: the deployment's own names
// are accepted, names that clash with the live topology or with AMQP's amq.* are refused.
import { assertExchangeName, assertTopicName } from '../../messaging/bus/delivery-policy';

describe('exchange and topic names', () => {
  it('accepts the production default `events` (and any other sane name) as the live exchange', () => {
    expect(() => assertExchangeName('events')).not.toThrow();
    expect(() => assertExchangeName('staging.events')).not.toThrow();
  });

  it.each(['', '   ', 'amq.topic', 'x'.repeat(201)])('refuses %j as the live exchange, with BAD_USER_INPUT', (name) => {
    expect(() => assertExchangeName(name)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });

  it('refuses a temporary topic named like the live topology, by default and for a renamed exchange', () => {
    for (const name of ['events', 'events.dlx', 'events.appends', 'amq.direct', '']) {
      expect(() => assertTopicName(name)).toThrow(/Topic name/);
    }
    for (const name of ['staging', 'staging.dlx', 'staging.appends', 'events']) {
      expect(() => assertTopicName(name, 'staging')).toThrow(/Topic name/);
    }
    expect(() => assertTopicName('replay.r-1')).not.toThrow();
    expect(() => assertTopicName('replay.r-1', 'staging')).not.toThrow();
  });
});
