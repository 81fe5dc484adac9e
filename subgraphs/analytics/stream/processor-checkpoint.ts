// Checkpoints of the stream processor in the DocumentStore: its whole state (windows, pattern state,
// per-member scores) together with the input position, so a restart resumes exactly where the state
// was taken. Members are split into chunks written first; the header naming them is the commit point.
import type { DocumentStore } from '../../../messaging/state/document-store';
import type { MemberSnapshot, ProcessorHeader } from '../domain/stream-processor';

interface HeaderDoc extends ProcessorHeader {
  readonly id: string;
  /** Ids of the chunk documents of this checkpoint. */
  readonly chunks: readonly string[];
  readonly savedAt: string;
  /** Members with state and their open windows, for instances that only read the checkpoint. */
  readonly members?: number;
  readonly openWindows?: number;
}

/** What a checkpoint says of the processor without loading its state. */
export interface CheckpointSummary {
  readonly header: ProcessorHeader;
  readonly members: number;
  readonly openWindows: number;
  readonly savedAt: string;
}

interface ChunkDoc {
  readonly id: string;
  readonly members: readonly MemberSnapshot[];
}

export interface ProcessorCheckpoint {
  load(): Promise<{ header: ProcessorHeader; members: MemberSnapshot[] } | null>;
  /** The last checkpoint's header and counts (no member state), or null before the first. */
  summary(): Promise<CheckpointSummary | null>;
  save(header: ProcessorHeader, members: readonly MemberSnapshot[], savedAt: Date): Promise<void>;
}

const MEMBERS_PER_CHUNK = 2_000;

export function documentProcessorCheckpoint(documents: DocumentStore, name: string): ProcessorCheckpoint {
  const headers = documents.collection<HeaderDoc>('analytics_processor');
  const chunks = documents.collection<ChunkDoc>('analytics_processor_chunks');
  return {
    async load() {
      const header = await headers.get(name);
      if (!header) return null;
      const docs = await chunks.getMany(header.chunks);
      if (docs.length !== header.chunks.length) throw new Error(`Checkpoint ${name} at ${header.position} misses chunks: refusing to resume from it.`);
      const { id: _id, chunks: _chunks, savedAt: _savedAt, members: _members, openWindows: _openWindows, ...rest } = header;
      return { header: rest, members: docs.flatMap((d) => d.members) };
    },
    async summary() {
      const header = await headers.get(name);
      if (!header) return null;
      const { id: _id, chunks: _chunks, savedAt, members, openWindows, ...rest } = header;
      return { header: rest, members: members ?? 0, openWindows: openWindows ?? 0, savedAt };
    },
    async save(header, members, savedAt) {
      const previous = await headers.get(name);
      if (previous && previous.position >= header.position) return;
      // Chunk ids carry the position: the same position always has the same content (deterministic).
      const ids: string[] = [];
      for (let i = 0; i * MEMBERS_PER_CHUNK < members.length || i === 0; i++) {
        const id = `${name}:${header.position}:${i}`;
        await chunks.put({ id, members: members.slice(i * MEMBERS_PER_CHUNK, (i + 1) * MEMBERS_PER_CHUNK) });
        ids.push(id);
      }
      const stored = await headers.update(name, (current) =>
        current && current.position >= header.position
          ? null
          : {
              id: name,
              ...header,
              chunks: ids,
              savedAt: savedAt.toISOString(),
              members: members.length,
              openWindows: members.reduce((n, m) => n + m.windows.length, 0),
            },
      );
      // Only once the new header is in place may the old chunks go.
      if (stored?.position !== header.position) {
        for (const id of ids) await chunks.delete(id);
        return;
      }
      for (const old of previous?.chunks ?? []) if (!ids.includes(old)) await chunks.delete(old);
    },
  };
}
