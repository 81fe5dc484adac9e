// The schema registry: validates payloads against the catalog on append and on consume,
// upcasts old versions, and lists the contracts for docs and the event monitor.
import { z } from 'zod';
import { EventContractError } from '../../platform/errors';
import { eventCatalog, isEventType, type EventPayload, type EventType } from './catalog';
import type { EventContract } from './catalog/define';

export interface RegisteredEventType {
  readonly type: EventType;
  readonly version: number;
  readonly description: string;
  /** Versions still accepted and upcast on read. */
  readonly readableVersions: readonly number[];
  readonly jsonSchema: unknown;
}

function contractOf(type: string): EventContract & { schema: z.ZodType } {
  if (!isEventType(type)) {
    throw new EventContractError('UNKNOWN_EVENT_TYPE', `Unknown event type "${type}": it is not in the event catalog.`, {
      type,
    });
  }
  return eventCatalog[type];
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`).join('; ');
}

/** Check a payload a producer is about to write (always the current version). */
export function validatePayload<T extends EventType>(type: T, payload: unknown): EventPayload<T> {
  const contract = contractOf(type);
  const result = contract.schema.safeParse(payload);
  if (!result.success) {
    throw new EventContractError('INVALID_EVENT', `Invalid ${type} payload: ${describeIssues(result.error)}`, {
      type,
      issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return result.data as EventPayload<T>;
}

/**
 * Read a payload written at `version` and bring it to the current version, validating each step.
 * Throws for an unknown type, an unknown version or a payload that breaks its schema.
 */
export function upcastPayload<T extends EventType>(type: T, version: number, payload: unknown): EventPayload<T> {
  const contract = contractOf(type);
  if (version === contract.version) return validatePayload(type, payload);
  if (version > contract.version) {
    throw new EventContractError('INVALID_EVENT', `${type} v${version} is newer than this service knows (v${contract.version}).`, {
      type,
      version,
    });
  }
  let current = payload;
  for (let v = version; v < contract.version; v++) {
    const step = contract.upcasters?.[v];
    if (!step) {
      throw new EventContractError('INVALID_EVENT', `${type} v${v} cannot be upcast: no upcaster is registered.`, {
        type,
        version: v,
      });
    }
    const parsed = step.schema.safeParse(current);
    if (!parsed.success) {
      throw new EventContractError('INVALID_EVENT', `Invalid ${type} v${v} payload: ${describeIssues(parsed.error)}`, {
        type,
        version: v,
      });
    }
    current = step.upcast(parsed.data);
  }
  return validatePayload(type, current);
}

export function currentVersion(type: EventType): number {
  return contractOf(type).version;
}

export function listEventTypes(): RegisteredEventType[] {
  return (Object.keys(eventCatalog) as EventType[]).sort().map((type) => {
    const contract: EventContract = eventCatalog[type];
    return {
      type,
      version: contract.version,
      description: contract.description,
      readableVersions: [...Object.keys(contract.upcasters ?? {}).map(Number), contract.version].sort((a, b) => a - b),
      jsonSchema: z.toJSONSchema(contract.schema, { unrepresentable: 'any' }),
    };
  });
}
