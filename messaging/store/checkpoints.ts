// Position checkpoints for store followers: durable ones in the DocumentStore (monotonic, so two
// instances saving at once never move a checkpoint back) and volatile ones for in-memory projections.
import type { DocumentStore } from '../state/document-store';
import type { PositionCheckpoint } from './store-follower';

interface CheckpointDoc {
  readonly id: string;
  readonly position: number;
  readonly updatedAt: string;
}

export const CHECKPOINTS_COLLECTION = 'follower_checkpoints';

export function documentCheckpoint(documents: DocumentStore, name: string, now: () => Date = () => new Date()): PositionCheckpoint {
  const collection = documents.collection<CheckpointDoc>(CHECKPOINTS_COLLECTION);
  return {
    load: async () => (await collection.get(name))?.position ?? 0,
    save: async (position) => {
      await collection.update(name, (current) =>
        current && current.position >= position ? null : { id: name, position, updatedAt: now().toISOString() },
      );
    },
  };
}

/** All follower checkpoints, for the event monitor. */
export async function listCheckpoints(documents: DocumentStore): Promise<{ name: string; position: number; updatedAt: string }[]> {
  const docs = await documents.collection<CheckpointDoc>(CHECKPOINTS_COLLECTION).find();
  return docs.map((d) => ({ name: d.id, position: d.position, updatedAt: d.updatedAt }));
}

/** Starts from the beginning at every start: for in-memory projections rebuilt on start. */
export function memoryCheckpoint(): PositionCheckpoint {
  let position = 0;
  return {
    load: async () => position,
    save: async (p) => {
      position = p;
    },
  };
}
