// What the analytics resolvers use, built once by the module.
import type { DocumentCollection } from '../../../messaging/state/document-store';
import type { ActivityTracker } from '../activity-tracker';
import type { CepRule } from '../domain/cep-rules';
import type { ProcessorStats } from '../domain/stream-processor';
import type { AnalyticsCollections } from '../projections/analytics-read-model';
import type { LateEventDoc } from '../stream/processor-runner';

export interface AnalyticsDeps {
  readonly tracker: ActivityTracker;
  readonly read: AnalyticsCollections;
  readonly late: DocumentCollection<LateEventDoc>;
  readonly rules: readonly CepRule[];
  /** The processor's stats: live where it runs, from its last checkpoint elsewhere. */
  readonly stats: () => Promise<ProcessorStats>;
}
