// Consumers and projections: every one's position, lag and throughput, dead letters per queue with
// requeue and discard, and the outbox relay's parked events with retry and skip (admin mutations,
// each recorded as an event). The monitor has no subscription, so this page reads it again every
// few seconds while it is open.
import { useEffect, useRef, useState } from 'react';
import { request } from '../api/client';
import { useSession } from '../api/session';
import { ErrorList, Field, time } from '../components/common';

interface DeadLetterRow {
  readonly id: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly streamId: string | null;
  readonly reason: string;
  readonly attempts: number;
  readonly deadLetteredAt: string;
}

interface ConsumerRow {
  readonly deadLetterSample: readonly DeadLetterRow[];
  readonly id: string;
  readonly name: string;
  readonly queue: string | null;
  readonly kind: string;
  readonly position: number;
  readonly lag: number;
  readonly processed: number | null;
  readonly deadLetters: number | null;
  readonly lastEventAt: string | null;
}

interface Traffic {
  readonly type: string;
  readonly published: number;
  readonly consumed: number;
  readonly retried: number;
  readonly deadLettered: number;
}

interface Parked {
  readonly eventId: string;
  readonly type: string;
  readonly streamId: string;
  readonly reason: string;
  readonly failedAttempts: number;
  readonly parkedAt: string;
}

interface Monitor {
  readonly headPosition: number;
  readonly deadLetterTotal: number;
  readonly parkedTotal: number;
  readonly takenAt: string;
  readonly consumers: readonly ConsumerRow[];
  readonly types: readonly Traffic[];
  readonly parkedEvents: { readonly edges: readonly { readonly node: Parked }[] };
}

const MONITOR = `query ConsoleMonitor { eventMonitor { headPosition deadLetterTotal parkedTotal takenAt
  consumers { id name queue kind position lag processed deadLetters lastEventAt deadLetterSample(size: 20) { id eventId eventType streamId reason attempts deadLetteredAt } }
  types { type published consumed retried deadLettered }
  parkedEvents(first: 50) { edges { node { eventId type streamId reason failedAttempts parkedAt } } } } }`;
const RETRY_PARKED = `mutation ConsoleRetryParked($eventId: ID!) { retryParkedEvent(eventId: $eventId) { eventId status } }`;
const SKIP_PARKED = `mutation ConsoleSkipParked($eventId: ID!, $reason: String!) { skipParkedEvent(eventId: $eventId, reason: $reason) { eventId status } }`;
const REQUEUE = `mutation ConsoleRequeueDeadLetter($consumer: String!, $eventId: ID!) { requeueDeadLetter(consumer: $consumer, eventId: $eventId) { id } }`;
const DISCARD = `mutation ConsoleDiscardDeadLetter($consumer: String!, $eventId: ID!, $reason: String!) { discardDeadLetter(consumer: $consumer, eventId: $eventId, reason: $reason) { id } }`;
const REFRESH_MS = 2000;

export function ConsumersPage() {
  const { token } = useSession();
  const [monitor, setMonitor] = useState<Monitor | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const previous = useRef<{ at: number; processed: Map<string, number> } | null>(null);
  const [rates, setRates] = useState<Map<string, number>>(new Map());
  const [discardReason, setDiscardReason] = useState('');

  const load = async () => {
    try {
      const { eventMonitor } = await request<{ eventMonitor: Monitor }>(token, MONITOR);
      const at = Date.now();
      const processed = new Map(eventMonitor.consumers.map((c) => [c.name, c.processed ?? c.position]));
      if (previous.current) {
        const seconds = (at - previous.current.at) / 1000;
        const next = new Map<string, number>();
        for (const [name, n] of processed) next.set(name, Math.max(0, (n - (previous.current.processed.get(name) ?? n)) / seconds));
        setRates(next);
      }
      previous.current = { at, processed };
      setMonitor(eventMonitor);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [token]);

  const act = async (query: string, variables: Record<string, unknown>) => {
    setActionError(null);
    try {
      await request(token, query, variables);
      await load();
    } catch (err) {
      setActionError(err);
    }
  };

  if (!monitor) return <ErrorList error={error} />;
  const withDeadLetters = monitor.consumers.filter((c) => c.deadLetterSample.length > 0);
  return (
    <div className="consumers">
      <ErrorList error={error} />
      <div className="cards">
        <div className="card">
          <strong>{monitor.headPosition}</strong>
          <span>head position</span>
        </div>
        <div className="card">
          <strong data-testid="dead-letter-total">{monitor.deadLetterTotal}</strong>
          <span>dead letters</span>
        </div>
        <div className="card">
          <strong>{monitor.parkedTotal}</strong>
          <span>parked events</span>
        </div>
      </div>
      <section>
        <h2>Consumers and projections</h2>
        <table data-testid="consumers">
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Queue</th>
              <th>Position</th>
              <th>Lag</th>
              <th>Processed</th>
              <th>Throughput</th>
              <th>Dead letters</th>
              <th>Last event</th>
            </tr>
          </thead>
          <tbody>
            {monitor.consumers.map((c) => (
              <tr key={c.id} className={c.lag > 0 ? 'lagging' : ''}>
                <td>{c.name}</td>
                <td>{c.kind}</td>
                <td className="mono">{c.queue ?? '—'}</td>
                <td>{c.position}</td>
                <td>{c.lag}</td>
                <td>{c.processed ?? '—'}</td>
                <td>{(rates.get(c.name) ?? 0).toFixed(1)}/s</td>
                <td className={c.deadLetters ? 'warn' : ''}>{c.deadLetters ?? '—'}</td>
                <td>{c.lastEventAt ? time(c.lastEventAt) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Dead letters by queue</h2>
        <ErrorList error={actionError} />
        <div className="inline">
          <Field label="Reason for a discard" name="reason" error={actionError}>
            <input name="discardReason" value={discardReason} onChange={(e) => setDiscardReason(e.target.value)} placeholder="why it is dropped" />
          </Field>
        </div>
        {withDeadLetters.length === 0 ? <p className="hint">No dead letters.</p> : null}
        {withDeadLetters.map((c) => (
          <div key={c.id} data-testid="dead-letters" data-consumer={c.name}>
            <h3>
              {c.name} <span className="mono hint">{c.queue}.dlq</span> <span className="pill warn">{c.deadLetters}</span>
            </h3>
            <table>
              <thead>
                <tr>
                  <th>Event</th>
                  <th>Type</th>
                  <th>Stream</th>
                  <th>Reason</th>
                  <th>Attempts</th>
                  <th>Dead since</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {c.deadLetterSample.map((d) => (
                  <tr key={d.id} data-event-id={d.eventId}>
                    <td className="mono">{d.eventId}</td>
                    <td>{d.eventType}</td>
                    <td>{d.streamId ?? '—'}</td>
                    <td title={d.reason}>{d.reason}</td>
                    <td>{d.attempts}</td>
                    <td>{time(d.deadLetteredAt)}</td>
                    <td>
                      <button name="requeue" onClick={() => void act(REQUEUE, { consumer: c.name, eventId: d.eventId })}>
                        Requeue
                      </button>
                      <button name="discard" onClick={() => void act(DISCARD, { consumer: c.name, eventId: d.eventId, reason: discardReason })}>
                        Discard
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      </section>
      <section>
        <h2>Parked events (the outbox relay could not publish them)</h2>
        <table>
          <thead>
            <tr>
              <th>Event</th>
              <th>Type</th>
              <th>Stream</th>
              <th>Reason</th>
              <th>Parked</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {monitor.parkedEvents.edges.map(({ node: p }) => (
              <tr key={p.eventId}>
                <td className="mono">{p.eventId}</td>
                <td>{p.type}</td>
                <td>{p.streamId}</td>
                <td>{p.reason}</td>
                <td>{time(p.parkedAt)}</td>
                <td>
                  <button onClick={() => void act(RETRY_PARKED, { eventId: p.eventId })}>Retry</button>
                  <button onClick={() => void act(SKIP_PARKED, { eventId: p.eventId, reason: discardReason })}>Skip</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Traffic by type</h2>
        <table>
          <thead>
            <tr>
              <th>Type</th>
              <th>Published</th>
              <th>Consumed</th>
              <th>Retried</th>
              <th>Dead-lettered</th>
            </tr>
          </thead>
          <tbody>
            {monitor.types.map((t) => (
              <tr key={t.type}>
                <td>{t.type}</td>
                <td>{t.published}</td>
                <td>{t.consumed}</td>
                <td>{t.retried}</td>
                <td className={t.deadLettered ? 'warn' : ''}>{t.deadLettered}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
