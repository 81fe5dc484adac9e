// Helper to declare an event contract: the current schema and how older versions upcast to it.
import type { z } from 'zod';

export interface EventContract<S extends z.ZodType = z.ZodType> {
  /** Current schema version; producers always write this one. */
  readonly version: number;
  readonly schema: S;
  readonly description: string;
  /**
   * Older versions still readable from the store or the bus: each one's schema and a function
   * turning its payload into the next version's. Keyed by the old version number.
   */
  readonly upcasters?: Readonly<Record<number, { schema: z.ZodType; upcast: (payload: unknown) => unknown }>>;
}

export function defineEvent<S extends z.ZodType>(contract: EventContract<S>): EventContract<S> {
  return contract;
}
