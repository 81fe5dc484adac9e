// What each event of an order's saga means to someone watching it: which step, how it went, and
// whether it is compensation. Pure; the sagaProgress subscription maps events with it.
import type { AnyEventEnvelope } from '../../../messaging/events/envelope';
import type { EventType } from '../../../messaging/events/catalog';

export type SagaStepName = 'order' | 'payment' | 'inventory' | 'shipping' | 'refund' | 'release';
export type SagaStepStatus = 'started' | 'requested' | 'in_progress' | 'succeeded' | 'failed' | 'compensated';

export interface SagaProgressStep {
  readonly step: SagaStepName;
  readonly status: SagaStepStatus;
  readonly compensation: boolean;
  /** The order's saga ended with this event. */
  readonly terminal: boolean;
}

export const sagaProgressEventTypes = [
  'order.created',
  'payment.initiated',
  'payment.authorized',
  'payment.completed',
  'payment.failed',
  'inventory.reserve',
  'inventory.reserved',
  'inventory.failed',
  'shipping.create',
  'shipment.created',
  'payment.refund',
  'payment.refunded',
  'inventory.release',
  'inventory.released',
  'order.completed',
  'order.failed',
  'order.cancelled',
] as const satisfies readonly EventType[];

export type SagaProgressEventType = (typeof sagaProgressEventTypes)[number];
export type SagaProgressEvent = Extract<AnyEventEnvelope, { type: SagaProgressEventType }>;

const steps: Record<SagaProgressEventType, SagaProgressStep> = {
  'order.created': { step: 'order', status: 'started', compensation: false, terminal: false },
  'payment.initiated': { step: 'payment', status: 'requested', compensation: false, terminal: false },
  'payment.authorized': { step: 'payment', status: 'in_progress', compensation: false, terminal: false },
  'payment.completed': { step: 'payment', status: 'succeeded', compensation: false, terminal: false },
  'payment.failed': { step: 'payment', status: 'failed', compensation: false, terminal: false },
  'inventory.reserve': { step: 'inventory', status: 'requested', compensation: false, terminal: false },
  'inventory.reserved': { step: 'inventory', status: 'succeeded', compensation: false, terminal: false },
  'inventory.failed': { step: 'inventory', status: 'failed', compensation: false, terminal: false },
  'shipping.create': { step: 'shipping', status: 'requested', compensation: false, terminal: false },
  'shipment.created': { step: 'shipping', status: 'succeeded', compensation: false, terminal: false },
  'payment.refund': { step: 'refund', status: 'requested', compensation: true, terminal: false },
  'payment.refunded': { step: 'refund', status: 'succeeded', compensation: true, terminal: false },
  'inventory.release': { step: 'release', status: 'requested', compensation: true, terminal: false },
  'inventory.released': { step: 'release', status: 'succeeded', compensation: true, terminal: false },
  'order.completed': { step: 'order', status: 'succeeded', compensation: false, terminal: true },
  'order.failed': { step: 'order', status: 'failed', compensation: false, terminal: true },
  'order.cancelled': { step: 'order', status: 'compensated', compensation: true, terminal: true },
};

export function isSagaProgressEvent(event: AnyEventEnvelope): event is SagaProgressEvent {
  return Object.prototype.hasOwnProperty.call(steps, event.type);
}

export function progressOf(event: SagaProgressEvent): SagaProgressStep {
  return steps[event.type];
}
