import { ConfigError, isKnownVariable, loadConfig } from '../../platform/config';
import { randomSecret } from '../support/secrets';

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
    ['MONGODB_URI', 'not a url', /MONGODB_URI: not a MongoDB connection string/],
    ['MONGODB_URI', 'http://db:27017/membership', /MONGODB_URI: .*mongodb:\/\/.*mongodb\+srv:\/\//],
    ['MONGODB_URI', 'mongodb://db:27017/?authSource=admin&x=a/b', /MONGODB_URI: .*option x is not supported/],
    ['MONGODB_URI', 'mongodb+srv://cluster0.example.mongodb.net:27017/membership', /MONGODB_URI: .*port/],
    ['MONGODB_URI', 'mongodb://db:27017/my.db', /MONGODB_URI: .*database name "my.db"/],
    ['MONGODB_TIMEOUT_MS', '0', /MONGODB_TIMEOUT_MS: "0" is not a positive integer/],
    ['SANDBOX', 'maybe', /SANDBOX: "maybe" is not a boolean/],
    ['NODE_ENV', 'staging', /NODE_ENV: "staging" is not one of/],
    ['JWT_SECRET', 'short', /JWT_SECRET: must be at least 32 characters/],
  ])('stops on a bad %s naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('requires real secrets in production and turns Sandbox and introspection off', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: must be set when NODE_ENV=production/);
    const config = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: randomSecret(),
      SUBGRAPH_SECRET: randomSecret(),
    });
    expect(config.SANDBOX).toBe(false);
    expect(config.INTROSPECTION).toBe(false);
    expect(config.usingDevelopmentSecrets).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: randomSecret(), SUBGRAPH_SECRET: randomSecret(), SANDBOX: 'true' }).SANDBOX).toBe(true);
  });

  it('knows its variables and no others', () => {
    expect(isKnownVariable('RABBITMQ_URL')).toBe(true);
    expect(isKnownVariable('RABBIT_URL')).toBe(false);
  });
});

describe('MongoDB configuration', () => {
  it.each([
    'mongodb://mongo-a:27017,mongo-b:27017,mongo-c:27017/membership?replicaSet=rs0',
    'mongodb+srv://user:pass@cluster0.example.mongodb.net/membership?retryWrites=true',
    'mongodb://user:p%40ss@db:27017/membership?authSource=admin&appName=a/b',
    'mongodb://mongodb:27017/membership?replicaSet=rs0',
  ])('accepts %s', (uri) => {
    expect(loadConfig({ MONGODB_URI: uri }).MONGODB_URI).toBe(uri);
  });

  it('never repeats the URI (and its password) in a refusal', () => {
    expect(() => loadConfig({ MONGODB_URI: 'mongodb://user:s3cret@db:27017/?bogusOption=1' })).toThrow(/bogusoption/i);
    expect(() => loadConfig({ MONGODB_URI: 'mongodb://user:s3cret@db:27017/?bogusOption=1' })).not.toThrow(/s3cret/);
  });

  it('waits 5 s for a server by default', () => {
    expect(loadConfig({}).MONGODB_TIMEOUT_MS).toBe(5000);
    expect(loadConfig({ MONGODB_TIMEOUT_MS: '1500' }).MONGODB_TIMEOUT_MS).toBe(1500);
  });
});
