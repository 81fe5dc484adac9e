// The DocumentStore contract against the in-memory adapter.
import { MemoryDocumentStore } from '../../messaging/state/memory-document-store';
import { documentStoreContract } from '../contracts/document-store.contract';

documentStoreContract('memory', async () => {
  const store = new MemoryDocumentStore();
  return { store, dispose: () => store.close() };
});
