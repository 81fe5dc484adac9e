// MONGODB_URI as the driver reads it, without a server: constructing a MongoClient connects nothing.
import { MongoClient } from 'mongodb';
import { DEFAULT_DATABASE, MongoUriError, parseMongoUri } from '../../platform/mongodb-uri';

describe('parseMongoUri', () => {
  it('reads a three-host replica-set URI: every seed host, the set name and the database', () => {
    const uri = parseMongoUri('mongodb://mongo-a:27017,mongo-b:27018,mongo-c:27019/membership?replicaSet=rs0');
    expect(uri).toMatchObject({
      databaseName: 'membership',
      hosts: ['mongo-a:27017', 'mongo-b:27018', 'mongo-c:27019'],
      srv: false,
      replicaSet: 'rs0',
      display: 'mongo-a:27017,mongo-b:27018,mongo-c:27019, replica set rs0, database membership',
    });
  });

  it('reads an Atlas mongodb+srv URI without looking up DNS, and keeps the password out of display', () => {
    const uri = parseMongoUri('mongodb+srv://user:pass@cluster0.example.mongodb.net/membership?retryWrites=true');
    expect(uri).toMatchObject({ databaseName: 'membership', hosts: ['cluster0.example.mongodb.net'], srv: true, replicaSet: null });
    expect(uri.display).toBe('cluster0.example.mongodb.net (SRV), database membership');
    expect(uri.display).not.toMatch(/pass/);
  });

  it.each([
    ['mongodb://db:27017', DEFAULT_DATABASE],
    ['mongodb://db:27017/', DEFAULT_DATABASE],
    ['mongodb://db:27017/?replicaSet=rs0', DEFAULT_DATABASE],
    // No slash before the query: a slash inside an option value is not a path.
    ['mongodb://db:27017?authSource=admin&appName=a/b', DEFAULT_DATABASE],
    ['mongodb://db:27017/?authSource=admin&appName=a/b', DEFAULT_DATABASE],
    ['mongodb://user:p%40ss@db:27017/members_prod?authSource=admin&appName=x/y', 'members_prod'],
    ['mongodb://db:27017/members%2Dprod', 'members-prod'],
    ['mongodb+srv://cluster0.example.mongodb.net/?retryWrites=true&w=majority', DEFAULT_DATABASE],
  ])('takes the database of %s from the path only: %s', (text, database) => {
    expect(parseMongoUri(text).databaseName).toBe(database);
  });

  it('agrees with the driver on the database whenever the URI names one', () => {
    for (const text of [
      'mongodb://a:1,b:2,c:3/membership?replicaSet=rs0',
      'mongodb://user:p%40ss@db:27017/members_prod?authSource=admin',
      'mongodb+srv://u:p@cluster0.example.mongodb.net/prod?retryWrites=true',
    ]) {
      expect(parseMongoUri(text).databaseName).toBe(new MongoClient(text).db().databaseName);
    }
  });

  it.each([
    ['not a url', /mongodb:\/\//],
    ['mongodb://db:27017/?authSource=admin&x=a/b', /option x is not supported/],
    ['mongodb+srv://cluster0.example.mongodb.net:27017/membership', /port/],
    ['mongodb+srv://a.example.net,b.example.net/membership', /multiple service names/],
    ['mongodb://db:27017/my%20db', /database name "my db"/],
    ['mongodb://db:27017/te%2Fst', /database name "te\/st"/],
    ['mongodb://db:27017/a.b', /database name "a\.b"/],
    [`mongodb://db:27017/${'x'.repeat(64)}`, /at most 63/],
    ['mongodb://db:27017/membership?serverSelectionTimeoutMS=soon', /serverSelectionTimeoutMS/],
  ])('refuses %s, naming the rule it breaks', (text, message) => {
    expect(() => parseMongoUri(text)).toThrow(MongoUriError);
    expect(() => parseMongoUri(text)).toThrow(message);
  });
});
