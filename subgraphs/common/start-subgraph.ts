// Starts one subgraph from the configuration (used by each subgraph's main and by `npm start`).
import { config, type Config } from '../../platform/config';
import { subgraphEntries } from '../index';
import { startSubgraphServer, type RunningServer, type SubgraphName } from './subgraph-server';

const portVariable = {
  member: 'MEMBER_PORT',
  payment: 'PAYMENT_PORT',
  certification: 'CERTIFICATION_PORT',
  analytics: 'ANALYTICS_PORT',
} as const satisfies Record<SubgraphName, keyof Config>;

export async function startSubgraph(name: SubgraphName, cfg: Config = config()): Promise<RunningServer> {
  const entry = subgraphEntries.find((e) => e.name === name);
  if (!entry) throw new Error(`Unknown subgraph ${name}`);
  return startSubgraphServer({
    name,
    schema: await entry.buildSchema(),
    host: cfg.HOST,
    port: cfg[portVariable[name]],
    subgraphSecret: cfg.SUBGRAPH_SECRET,
    introspection: cfg.INTROSPECTION,
  });
}
