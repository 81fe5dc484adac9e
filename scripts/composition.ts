// Composes the supergraph from the subgraphs' schemas with @apollo/composition, offline.
import { composeServices } from '@apollo/composition';
import { printSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createMemoryBackends } from '../messaging/backends';
import { loadConfig, subgraphPortVariable } from '../platform/config';
import { subgraphList } from '../subgraphs';

export interface CompositionOutcome {
  readonly supergraphSdl: string | null;
  readonly errors: readonly string[];
  readonly hints: readonly string[];
}

/** Default URLs baked into the supergraph; the gateway overrides them from MEMBER_URL etc. */
export function defaultSubgraphUrl(port: number): string {
  return `http://localhost:${port}/graphql`;
}

export async function subgraphSdls(): Promise<{ name: string; url: string; sdl: string }[]> {
  // Schemas only: modules are assembled on throwaway in-memory backends and never started.
  const backends = await createMemoryBackends();
  const cfg = loadConfig({});
  const out: { name: string; url: string; sdl: string }[] = [];
  try {
    for (const definition of subgraphList) {
      const module = await definition.createModule(backends, cfg);
      out.push({ name: definition.name, url: defaultSubgraphUrl(cfg[subgraphPortVariable(definition.name)]), sdl: printSubgraphSchema(module.schema) });
    }
  } finally {
    await backends.close();
  }
  return out;
}

export async function composeSupergraph(): Promise<CompositionOutcome> {
  const sdls = await subgraphSdls();
  const result = composeServices(sdls.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
  const hints = (result.hints ?? []).map((h) => `${h.definition.code}: ${h.message}`);
  if (result.errors) {
    return { supergraphSdl: null, errors: result.errors.map((e) => e.message), hints };
  }
  return { supergraphSdl: result.supergraphSdl, errors: [], hints };
}
