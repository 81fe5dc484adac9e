import { ConfigError, isKnownVariable, loadConfig } from '../../platform/config';

describe('config', () => {
  it('runs on documented defaults with no environment', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(4000);
    expect(config.MEMBER_PORT).toBe(4001);
    expect(config.ANALYTICS_URL).toBe('http://localhost:4004/graphql');
    expect(config.MONGODB_URI).toBeUndefined();
    expect(config.RABBITMQ_URL).toBeUndefined();
    expect(config.SANDBOX).toBe(true);
    expect(config.usingDevelopmentSecrets).toBe(true);
  });

  it('derives subgraph URLs from their ports', () => {
    expect(loadConfig({ PAYMENT_PORT: '5002' }).PAYMENT_URL).toBe('http://localhost:5002/graphql');
  });

  it.each([
    ['PORT', 'eighty', /PORT: "eighty" is not a port number/],
    ['PORT', '70000', /PORT/],
    ['RABBITMQ_URL', 'http://localhost', /RABBITMQ_URL: .* must use amqp: or amqps:/],
    ['MONGODB_URI', 'not a url', /MONGODB_URI: "not a url" is not a URL/],
    ['SANDBOX', 'maybe', /SANDBOX: "maybe" is not a boolean/],
    ['NODE_ENV', 'staging', /NODE_ENV: "staging" is not one of/],
    ['JWT_SECRET', 'short', /JWT_SECRET: must be at least 32 characters/],
    ['RABBITMQ_QUEUE_TYPE', 'stream', /RABBITMQ_QUEUE_TYPE: "stream" is not one of quorum, classic/],
    ['RABBITMQ_HOSTS', 'rabbit-0:5672,amqp://rabbit-1', /RABBITMQ_HOSTS: "amqp:\/\/rabbit-1" is not a host or host:port/],
    ['RABBITMQ_HOSTS', 'rabbit-0:99999', /RABBITMQ_HOSTS: "rabbit-0:99999"/],
  ])('stops on a bad %s naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('declares quorum queues unless told classic, and reads the cluster nodes of RABBITMQ_HOSTS', () => {
    expect(loadConfig({}).RABBITMQ_QUEUE_TYPE).toBe('quorum');
    expect(loadConfig({ RABBITMQ_QUEUE_TYPE: 'classic' }).RABBITMQ_QUEUE_TYPE).toBe('classic');
    expect(loadConfig({}).RABBITMQ_HOSTS).toBeUndefined();
    expect(loadConfig({ RABBITMQ_HOSTS: 'rabbit-0:5672, rabbit-1:5673,rabbit-2' }).RABBITMQ_HOSTS).toEqual(['rabbit-0:5672', 'rabbit-1:5673', 'rabbit-2']);
  });

  it('requires real secrets in production and turns Sandbox and introspection off', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: must be set when NODE_ENV=production/);
    const config = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(32),
      SUBGRAPH_SECRET: 'y'.repeat(32),
    });
    expect(config.SANDBOX).toBe(false);
    expect(config.INTROSPECTION).toBe(false);
    expect(config.usingDevelopmentSecrets).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), SUBGRAPH_SECRET: 'y'.repeat(32), SANDBOX: 'true' }).SANDBOX).toBe(true);
  });

  it('knows its variables and no others', () => {
    expect(isKnownVariable('RABBITMQ_URL')).toBe(true);
    expect(isKnownVariable('RABBIT_URL')).toBe(false);
  });
});
