// Per-request batching of document reads: the gets a request makes on one collection in one tick
// are one getMany; requests never share a batch; later ticks read again (no cache across writes).
import { createDocumentStore } from '../../messaging/state/create-document-store';
import { loadDocument } from '../../subgraphs/common/request-loaders';
import { countingDocuments } from '../support/counting-documents';

interface Item {
  readonly id: string;
  readonly n: number;
}

describe('loadDocument', () => {
  const documents = countingDocuments(createDocumentStore({ kind: 'memory' }));
  const items = documents.collection<Item>('items');
  const others = documents.collection<Item>('others');

  beforeAll(async () => {
    for (let n = 0; n < 10; n++) await items.put({ id: `i${n}`, n });
    await others.put({ id: 'o1', n: 100 });
  });
  beforeEach(() => documents.reset());

  it('reads every document one request asks of a collection in one tick with one getMany, in the order asked', async () => {
    const request = {};
    const ids = ['i3', 'i1', 'missing', 'i3', 'i9'];
    const docs = await Promise.all(ids.map((id) => loadDocument(request, items, id)));
    expect(docs.map((d) => d?.n ?? null)).toEqual([3, 1, null, 3, 9]);
    expect(documents.reads('items', 'getMany')).toBe(1);
    expect(documents.reads('items', 'get')).toBe(0);
    expect(documents.batches('items')[0]).toEqual(expect.arrayContaining(['i3', 'i1', 'missing', 'i9']));
  });

  it('batches per collection: two collections in one tick are two reads', async () => {
    const request = {};
    const [a, b] = await Promise.all([loadDocument(request, items, 'i2'), loadDocument(request, others, 'o1')]);
    expect([a?.n, b?.n]).toEqual([2, 100]);
    expect(documents.reads('items', 'getMany')).toBe(1);
    expect(documents.reads('others', 'getMany')).toBe(1);
  });

  it('never puts two requests in one batch', async () => {
    await Promise.all([loadDocument({}, items, 'i1'), loadDocument({}, items, 'i2')]);
    expect(documents.batches('items')).toEqual([['i1'], ['i2']]);
  });

  it('reads again in a later tick, so a write between two reads of one request is seen', async () => {
    const request = {};
    expect((await loadDocument(request, items, 'i5'))?.n).toBe(5);
    await items.put({ id: 'i5', n: 55 });
    expect((await loadDocument(request, items, 'i5'))?.n).toBe(55);
    expect(documents.reads('items', 'getMany')).toBe(2);
  });
});
