// The product's replay targets: every bus consumer the workers run (by its name without the queue
// prefix) and the rebuildable projections (the member read model, swapped in without downtime).
import type { ConsumerDefinition } from '../../../messaging/consumers/consumer-definition';
import type { RebuildableProjection } from '../../../messaging/replay/projection-versions';
import { consumerTarget, projectionTarget, type ReplayTarget } from '../../../messaging/replay/replay-targets';
import { memberEventTypes, memberReadModelProjection, membersCollection, type MemberDoc } from '../../member/projections/member-read-model';

export const memberReadModelRebuild: RebuildableProjection<MemberDoc> = {
  name: 'member-read-model',
  base: 'members',
  handles: memberEventTypes,
  open: (documents, collection) => membersCollection(documents, collection),
  project: (collection) => memberReadModelProjection(collection),
};

export const rebuildableProjections: readonly RebuildableProjection[] = [memberReadModelRebuild as unknown as RebuildableProjection];

/** Targets for the consumers as the workers run them (`queuePrefix` + name) and the projections. */
export function replayTargets(consumers: readonly ConsumerDefinition[], queuePrefix: string): ReplayTarget[] {
  return [...consumers.map((c) => consumerTarget(c, `${queuePrefix}${c.name}`)), ...rebuildableProjections.map(projectionTarget)];
}
