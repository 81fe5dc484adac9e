// Sagas: orders with their current step, counts by outcome, and one order's live timeline from
// `sagaProgress` (every step, compensations highlighted), opened from the list or by id.
import { useEffect, useState, type FormEvent } from 'react';
import { request, subscribeLive, type ApiError } from '../api/client';
import { useSession } from '../api/session';
import { ErrorList, time } from '../components/common';

interface OrderRow {
  readonly id: string;
  readonly memberId: string;
  readonly status: string;
  readonly totalCents: number;
  readonly currency: string;
  readonly failureReason: string | null;
  readonly updatedAt: string;
}

interface SagaStep {
  readonly id: string;
  readonly cursor: string;
  readonly occurredAt: string;
  readonly eventType: string;
  readonly step: string;
  readonly status: string;
  readonly compensation: boolean;
  readonly terminal: boolean;
  readonly order: { readonly status: string };
}

const ORDERS = `query ConsoleOrders { orders(first: 50) { totalCount edges { node { id memberId status totalCents currency failureReason updatedAt } } } }`;
const SAGA = `subscription ConsoleSaga($orderId: ID!) { sagaProgress(orderId: $orderId) { id cursor occurredAt eventType step status compensation terminal order { status } } }`;

const IN_FLIGHT = new Set(['AWAITING_PAYMENT', 'RESERVING_STOCK', 'CREATING_SHIPMENT', 'COMPENSATING']);

export function SagasPage() {
  const { token } = useSession();
  const [orders, setOrders] = useState<readonly OrderRow[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [orderId, setOrderId] = useState(() => new URLSearchParams(location.hash.split('?')[1] ?? '').get('order') ?? '');
  const [open, setOpen] = useState<string | null>(orderId || null);

  const load = () =>
    request<{ orders: { edges: { node: OrderRow }[] } }>(token, ORDERS)
      .then((d) => setOrders(d.orders.edges.map((e) => e.node)))
      .catch(setError);
  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [token]);

  const byOutcome = new Map<string, number>();
  for (const o of orders) byOutcome.set(o.status, (byOutcome.get(o.status) ?? 0) + 1);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (orderId.trim()) setOpen(orderId.trim());
  };

  return (
    <div className="sagas">
      <ErrorList error={error} />
      <section>
        <h2>Counts by outcome (latest {orders.length} orders)</h2>
        <div className="cards" data-testid="saga-counts">
          {[...byOutcome.entries()].map(([status, n]) => (
            <div className={`card status-${status}`} key={status}>
              <strong>{n}</strong>
              <span>{status}</span>
            </div>
          ))}
        </div>
      </section>
      <div className="split">
        <section>
          <h2>
            Orders <button onClick={() => void load()}>Refresh</button>
          </h2>
          <table>
            <thead>
              <tr>
                <th>Order</th>
                <th>Member</th>
                <th>Status</th>
                <th>Total</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((o) => (
                <tr key={o.id} onClick={() => setOpen(o.id)} className={open === o.id ? 'selected' : IN_FLIGHT.has(o.status) ? 'in-flight' : ''}>
                  <td className="mono">{o.id}</td>
                  <td>{o.memberId}</td>
                  <td>{o.status}</td>
                  <td>
                    {(o.totalCents / 100).toFixed(2)} {o.currency}
                  </td>
                  <td>{time(o.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section>
          <form onSubmit={submit} className="inline">
            <input name="orderId" placeholder="Order id" value={orderId} onChange={(e) => setOrderId(e.target.value)} />
            <button type="submit">Watch</button>
          </form>
          {open ? <SagaTimeline key={open} orderId={open} onStep={() => void load()} /> : <p className="hint">Pick an order to watch its saga.</p>}
        </section>
      </div>
    </div>
  );
}

function SagaTimeline({ orderId, onStep }: { orderId: string; onStep: () => void }) {
  const { live } = useSession();
  const [steps, setSteps] = useState<readonly SagaStep[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);
  useEffect(
    () =>
      subscribeLive<{ sagaProgress: SagaStep }>(live, {
        query: SAGA,
        variables: { orderId },
        cursorOf: (d) => d.sagaProgress.cursor,
        onData: (d) => {
          setSteps((prev) => [...prev, d.sagaProgress]);
          if (d.sagaProgress.terminal) onStep();
        },
        onError: setError,
        onComplete: () => setDone(true),
      }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [live, orderId],
  );
  const last = steps[steps.length - 1];
  return (
    <div data-testid="saga-timeline" data-order={orderId}>
      <h2>
        Saga of <span className="mono">{orderId}</span> {last ? <span className="pill">{last.order.status}</span> : null} {done ? <span className="hint">(finished)</span> : <span className="hint">(live)</span>}
      </h2>
      <ErrorList error={error} />
      <ol className="timeline">
        {steps.map((s) => (
          <li key={s.id} className={s.compensation ? 'compensation' : s.status === 'FAILED' ? 'failed' : ''} data-step={s.step} data-status={s.status} data-compensation={s.compensation}>
            <span className="hint">{time(s.occurredAt)}</span> <strong>{s.step}</strong> {s.status} <span className="mono">{s.eventType}</span>
            {s.compensation ? <span className="pill warn">compensation</span> : null}
          </li>
        ))}
      </ol>
    </div>
  );
}
