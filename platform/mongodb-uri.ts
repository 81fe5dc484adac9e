// MONGODB_URI read the way the driver reads it, once, for everyone: the config module (to refuse a
// bad URI at start), the stores (which database) and the start banner (which hosts). The driver's
// own parser (`mongodb-connection-string-url`, which MongoClient uses) splits the string, so
// replica-set host lists, `mongodb+srv://` and any query value parse exactly as the driver will
// connect; constructing a MongoClient then validates the options. Neither connects anywhere.
import { ConnectionString } from 'mongodb-connection-string-url';
import { MongoClient } from 'mongodb';

/** The database used when the URI's path names none (`mongodb://host:27017`, `.../?replicaSet=rs0`). */
export const DEFAULT_DATABASE = 'membership';

export interface MongoUri {
  /** The URI as given (credentials included: never log it; use `display`). */
  readonly uri: string;
  /** From the URI's path, decoded as the driver decodes it, else `membership`. */
  readonly databaseName: string;
  /** `host:port` of each seed host; for `mongodb+srv`, the one SRV name the driver looks up. */
  readonly hosts: readonly string[];
  readonly srv: boolean;
  /** `replicaSet` option, when given. */
  readonly replicaSet: string | null;
  /** Hosts, replica set and database without credentials or options: for logs and the banner. */
  readonly display: string;
}

/** A URI the driver would refuse (the message is the driver's, or names the rule broken). */
export class MongoUriError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MongoUriError';
  }
}

/** MongoDB's rules for database names (Unix and Windows deployments alike). */
const FORBIDDEN_IN_DATABASE_NAME = /[/\\. "$*<>:|?\0]/;

function checkDatabaseName(name: string): void {
  const bad = FORBIDDEN_IN_DATABASE_NAME.exec(name)?.[0];
  if (bad !== undefined) throw new MongoUriError(`the database name "${name}" contains ${JSON.stringify(bad)}, which MongoDB does not allow.`);
  if (Buffer.byteLength(name) >= 64) throw new MongoUriError(`the database name "${name}" is ${Buffer.byteLength(name)} bytes; MongoDB allows at most 63.`);
}

export function parseMongoUri(uri: string): MongoUri {
  let url: ConnectionString;
  let client: MongoClient;
  try {
    url = new ConnectionString(uri);
    // Validates every option (unknown ones, `mongodb+srv` with a port or several hosts, ...).
    client = new MongoClient(uri);
  } catch (error) {
    throw new MongoUriError(error instanceof Error ? error.message : String(error));
  }
  // The driver defaults the database to `test` when the path names none; this product uses `membership`.
  const named = url.pathname !== '' && url.pathname !== '/';
  const databaseName = named ? client.options.dbName : DEFAULT_DATABASE;
  checkDatabaseName(databaseName);
  const hosts = url.hosts;
  const replicaSet = client.options.replicaSet ?? null;
  const where = url.isSRV ? `${hosts[0] ?? ''} (SRV)` : hosts.join(',');
  return {
    uri,
    databaseName,
    hosts,
    srv: url.isSRV,
    replicaSet,
    display: `${where}${replicaSet ? `, replica set ${replicaSet}` : ''}, database ${databaseName}`,
  };
}
