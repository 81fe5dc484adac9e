import fs from 'node:fs';
import path from 'node:path';
import { composeSupergraph, subgraphSdls } from '../../scripts/composition';

describe('supergraph composition', () => {
  it('composes without errors and matches the committed supergraph.graphql (run `npm run compose` if not)', async () => {
    const outcome = await composeSupergraph();
    expect(outcome.errors).toEqual([]);
    const committed = fs.readFileSync(path.resolve(__dirname, '..', '..', 'supergraph.graphql'), 'utf8');
    expect(outcome.supergraphSdl).toBe(committed);
  });

  it('builds each subgraph as a Federation 2 subgraph', async () => {
    const sdls = await subgraphSdls();
    expect(sdls.map((s) => s.name)).toEqual(['member', 'payment', 'certification', 'analytics']);
    for (const { sdl } of sdls) {
      expect(sdl).toMatch(/@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+"/);
    }
  });

  it('makes the member subgraph the owner of Member, keyed by id', async () => {
    const member = (await subgraphSdls()).find((s) => s.name === 'member');
    expect(member?.sdl).toMatch(/type Member\s+@key\(fields: "id"\)/);
  });
});
