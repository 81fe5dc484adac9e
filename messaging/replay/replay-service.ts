// The replay service's API side: validates a request, writes it as a pending `replays` document (the
// durable hand-over to whichever worker claims it) and answers at once; cancels; reads runs and targets.
import { randomUUID } from 'node:crypto';
import type { DocumentCollection, DocumentStore } from '../state/document-store';
import { IdempotencyKeys } from '../state/idempotency-keys';
import type { EventStore } from '../store/event-store';
import type { Clock } from '../../platform/clock';
import { IllegalStateError, NotFoundError, ValidationError } from '../../platform/errors';
import {
  emptyProgress,
  isFinished,
  replayTargetsCollection,
  replaysCollection,
  validateReplayRequest,
  type ReplayDoc,
  type ReplayRequestInput,
  type ReplayTargetDoc,
} from './replay-model';

export interface Requester {
  readonly id: string;
  readonly correlationId: string;
}

export class ReplayService {
  private readonly keys: IdempotencyKeys;

  constructor(
    private readonly documents: DocumentStore,
    private readonly store: EventStore,
    private readonly clock: Clock,
    /** Called after a request or cancel is stored (wakes a runner in the same process). */
    private readonly onChange: () => void = () => undefined,
  ) {
    this.keys = new IdempotencyKeys(documents, clock);
  }

  /** With an idempotency key, a repeat of the same request answers the first run instead of starting another. */
  async start(input: ReplayRequestInput, requester: Requester, idempotencyKey: string | null = null): Promise<ReplayDoc> {
    const known = await this.targets();
    const firstEventAt = await this.firstEventAt();
    const valid = validateReplayRequest(input, known, this.clock.now(), firstEventAt);
    return this.once('startReplay', requester, idempotencyKey, { ...valid }, (id) => this.request(id, valid.kind, valid.from, valid.to, valid.types, valid.targets, requester));
  }

  /** Rebuild one projection from the whole history into a new version, then swap it in. */
  async rebuildProjection(name: string, requester: Requester, idempotencyKey: string | null = null): Promise<ReplayDoc> {
    const known = await this.targets();
    const target = known.find((t) => t.id === name);
    if (!target || target.kind !== 'projection') {
      const projections = known.filter((t) => t.kind === 'projection').map((t) => t.id);
      throw new ValidationError(`Unknown projection ${name}: choose from ${projections.join(', ') || '(none registered)'}.`, { field: 'name' });
    }
    const now = this.clock.now().toISOString();
    return this.once('rebuildProjection', requester, idempotencyKey, { name }, (id) => this.request(id, 'rebuild', new Date(0).toISOString(), now, null, [name], requester));
  }

  private once(operation: string, requester: Requester, key: string | null, input: unknown, create: (id: string) => Promise<ReplayDoc>): Promise<ReplayDoc> {
    return this.keys.run(
      { operation, caller: { sub: requester.id, role: 'admin' }, key, input },
      { newId: () => randomUUID(), find: (id) => this.get(id), create },
    );
  }

  async cancel(id: string): Promise<ReplayDoc> {
    const at = this.clock.now().toISOString();
    const stored = await replaysCollection(this.documents).update(id, (current) => {
      if (!current || isFinished(current.status) || current.cancelRequested) return null;
      // A pending run nobody claimed yet is cancelled here; a running one by its worker.
      return current.status === 'pending'
        ? { ...current, status: 'cancelled', cancelRequested: true, finishedAt: at }
        : { ...current, cancelRequested: true };
    });
    if (!stored) throw new NotFoundError(`No replay with id ${id}.`, { id });
    if (isFinished(stored.status) && !stored.cancelRequested) {
      // The status as the API names it (ReplayStatus: COMPLETED, ...).
      const status = stored.status.toUpperCase();
      throw new IllegalStateError(`Replay ${id} is already ${status}: there is nothing to cancel.`, { id, status });
    }
    this.onChange();
    return stored;
  }

  get(id: string): Promise<ReplayDoc | null> {
    return replaysCollection(this.documents).get(id);
  }

  /** Every run, for listing (most recent first: by `requestedAt` descending). */
  get runs(): DocumentCollection<ReplayDoc> {
    return replaysCollection(this.documents);
  }

  async targets(): Promise<ReplayTargetDoc[]> {
    return replayTargetsCollection(this.documents).find();
  }

  private async request(
    id: string,
    kind: ReplayDoc['kind'],
    from: string,
    to: string,
    types: readonly string[] | null,
    targets: readonly string[],
    requester: Requester,
  ): Promise<ReplayDoc> {
    const known = new Map((await this.targets()).map((t) => [t.id, t]));
    const doc: ReplayDoc = {
      id,
      kind,
      status: 'pending',
      from,
      to,
      types,
      targets,
      requestedBy: requester.id,
      requestedAt: this.clock.now().toISOString(),
      correlationId: requester.correlationId,
      claimedBy: null,
      startedAt: null,
      finishedAt: null,
      cancelRequested: false,
      events: 0,
      progress: emptyProgress(targets.map((name) => ({ name, kind: known.get(name)?.kind ?? 'consumer' }))),
      stats: null,
      error: null,
      errorSamples: [],
      startedPosition: null,
    };
    // A twin with the same idempotency key inserted it first: answer that one.
    if (!(await replaysCollection(this.documents).insert(doc))) return (await this.get(id)) ?? doc;
    this.onChange();
    return doc;
  }

  private async firstEventAt(): Promise<string | null> {
    for await (const batch of this.store.readAll({ batchSize: 1 })) return batch[0]?.recordedAt ?? null;
    return null;
  }
}
