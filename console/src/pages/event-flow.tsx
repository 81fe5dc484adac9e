// Event flow: events per second by type (live chart), the latest events (live list, filtered),
// and one event's details with its causation chain, all from the `eventFlow` subscription.
import { useEffect, useMemo, useRef, useState } from 'react';
import { request, subscribeLive, type ApiError } from '../api/client';
import { useSession } from '../api/session';
import { ErrorList, time } from '../components/common';
import { RateChart, type RateSeries } from '../components/rate-chart';

export interface FlowEvent {
  readonly id: string;
  readonly eventType: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly position: number;
  readonly cursor: string;
  readonly occurredAt: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly actor: string | null;
  readonly payloadJson: string;
}

const FLOW_FIELDS = 'id eventType streamId streamVersion position cursor occurredAt correlationId causationId actor payloadJson';
const FLOW_SUBSCRIPTION = `subscription ConsoleEventFlow($types: [String!], $correlationId: ID) { eventFlow(types: $types, correlationId: $correlationId) { ${FLOW_FIELDS} } }`;

const LIST_SIZE = 500;
const WINDOW_SECONDS = 300;
/** How many earlier events the page shows on opening. */
const BACKLOG = 300;
const TOP_TYPES = 8;
/**
 * How far before the selected event the chain is looked for: the server reads the store from there
 * (a request's events are close together; reading a whole large store per click is not).
 */
const CHAIN_LOOKBACK = 100_000;

type Counts = Map<number, Map<string, number>>;

function rateSeries(counts: Counts, nowSecond: number): RateSeries {
  const seconds: number[] = [];
  for (let s = nowSecond - WINDOW_SECONDS + 1; s <= nowSecond; s++) seconds.push(s);
  const totals = new Map<string, number>();
  for (const [second, byType] of counts) {
    if (second <= nowSecond - WINDOW_SECONDS) continue;
    for (const [type, n] of byType) totals.set(type, (totals.get(type) ?? 0) + n);
  }
  const top = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP_TYPES).map(([t]) => t);
  const hasOther = totals.size > top.length;
  const byType = new Map<string, number[]>();
  for (const t of [...top.sort(), ...(hasOther ? ['other'] : [])]) byType.set(t, seconds.map(() => 0));
  seconds.forEach((second, i) => {
    for (const [type, n] of counts.get(second) ?? []) {
      const row = byType.get(top.includes(type) ? type : 'other');
      if (row) row[i] = (row[i] ?? 0) + n;
    }
  });
  return { seconds, byType };
}

export function EventFlowPage() {
  const { token, live } = useSession();
  const [events, setEvents] = useState<readonly FlowEvent[]>([]);
  const [filter, setFilter] = useState('');
  const [selected, setSelected] = useState<FlowEvent | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [now, setNow] = useState(() => Math.floor(Date.now() / 1000));
  const counts = useRef<Counts>(new Map());
  const pending = useRef<FlowEvent[]>([]);

  useEffect(() => {
    let stop: (() => void) | null = null;
    let cancelled = false;
    void request<{ eventMonitor: { headPosition: number } }>(token, 'query ConsoleHead { eventMonitor { headPosition } }')
      .then(({ eventMonitor }) => Math.max(0, eventMonitor.headPosition - BACKLOG))
      .catch(() => 0)
      .then((from) => {
        if (cancelled) return;
        stop = subscribeLive<{ eventFlow: FlowEvent }>(live, {
          query: FLOW_SUBSCRIPTION,
          cursor: String(from),
          cursorOf: (d) => d.eventFlow.cursor,
          onData: (d) => {
            pending.current.push(d.eventFlow);
            const second = Math.floor(Date.parse(d.eventFlow.occurredAt) / 1000);
            const byType = counts.current.get(second) ?? new Map<string, number>();
            byType.set(d.eventFlow.eventType, (byType.get(d.eventFlow.eventType) ?? 0) + 1);
            counts.current.set(second, byType);
          },
          onError: setError,
        });
      });
    // Render in batches (4 a second), not once per event: the list stays smooth under load.
    const flush = setInterval(() => {
      if (pending.current.length === 0) return;
      const batch = pending.current.reverse();
      pending.current = [];
      setEvents((prev) => [...batch, ...prev].slice(0, LIST_SIZE));
    }, 250);
    const tick = setInterval(() => {
      const second = Math.floor(Date.now() / 1000);
      for (const s of counts.current.keys()) if (s <= second - WINDOW_SECONDS) counts.current.delete(s);
      setNow(second);
    }, 1000);
    return () => {
      cancelled = true;
      stop?.();
      clearInterval(flush);
      clearInterval(tick);
    };
  }, [token, live]);

  // eslint-disable-next-line react-hooks/exhaustive-deps
  const series = useMemo(() => rateSeries(counts.current, now), [now, events]);
  const needle = filter.trim().toLowerCase();
  const shown = needle === '' ? events : events.filter((e) => [e.eventType, e.streamId, e.correlationId, e.id].some((v) => v.toLowerCase().includes(needle)));

  return (
    <div className="flow">
      <ErrorList error={error} />
      <section>
        <h2>Events per second by type (last {WINDOW_SECONDS / 60} minutes)</h2>
        <RateChart data={series} />
      </section>
      <div className="split">
        <section className="list">
          <h2>Latest events</h2>
          <input className="filter" name="filter" placeholder="Filter by type, stream, correlation id…" value={filter} onChange={(e) => setFilter(e.target.value)} />
          <table className="events" data-testid="event-list">
            <thead>
              <tr>
                <th>#</th>
                <th>Time</th>
                <th>Type</th>
                <th>Stream</th>
                <th>Correlation id</th>
              </tr>
            </thead>
            <tbody>
              {shown.slice(0, 200).map((e) => (
                <tr key={e.id} onClick={() => setSelected(e)} className={selected?.id === e.id ? 'selected' : ''} data-event-type={e.eventType} data-stream={e.streamId}>
                  <td>{e.position}</td>
                  <td>{time(e.occurredAt)}</td>
                  <td>{e.eventType}</td>
                  <td>{e.streamId}</td>
                  <td className="mono">{e.correlationId}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="hint">
            {shown.length} of {events.length} events held
          </p>
        </section>
        <section className="details">{selected ? <EventDetails event={selected} /> : <p className="hint">Select an event to see its payload and causation chain.</p>}</section>
      </div>
    </div>
  );
}

interface ChainNode {
  readonly event: FlowEvent;
  readonly children: ChainNode[];
}

function chainTree(events: readonly FlowEvent[]): ChainNode[] {
  const nodes = new Map(events.map((e) => [e.id, { event: e, children: [] as ChainNode[] }]));
  const roots: ChainNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.event.causationId ? nodes.get(node.event.causationId) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

function ChainList({ nodes, focus }: { nodes: readonly ChainNode[]; focus: string }) {
  return (
    <ul className="chain">
      {nodes.map((n) => (
        <li key={n.event.id}>
          <span className={n.event.id === focus ? 'focus' : ''} data-chain-type={n.event.eventType}>
            <strong>{n.event.eventType}</strong> <span className="mono">{n.event.streamId}</span> <span className="hint">{time(n.event.occurredAt)}</span>
          </span>
          {n.children.length > 0 ? <ChainList nodes={n.children} focus={focus} /> : null}
        </li>
      ))}
    </ul>
  );
}

/** One event: its fields and payload, and every event of its correlation id as a causation tree (live). */
export function EventDetails({ event }: { event: FlowEvent }) {
  const { live } = useSession();
  const [chain, setChain] = useState<readonly FlowEvent[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    setChain([]);
    setError(null);
    return subscribeLive<{ eventFlow: FlowEvent }>(live, {
      query: FLOW_SUBSCRIPTION,
      variables: { correlationId: event.correlationId },
      cursor: String(Math.max(0, event.position - CHAIN_LOOKBACK - 1)),
      cursorOf: (d) => d.eventFlow.cursor,
      onData: (d) => setChain((prev) => [...prev, d.eventFlow]),
      onError: setError,
    });
  }, [live, event.correlationId]);
  let payload = event.payloadJson;
  try {
    payload = JSON.stringify(JSON.parse(event.payloadJson), null, 2);
  } catch {
    /* shown as sent */
  }
  return (
    <div data-testid="event-details">
      <h2>{event.eventType}</h2>
      <dl>
        <dt>Event id</dt>
        <dd className="mono">{event.id}</dd>
        <dt>Stream</dt>
        <dd className="mono">
          {event.streamId} v{event.streamVersion}
        </dd>
        <dt>Position</dt>
        <dd>{event.position}</dd>
        <dt>Occurred</dt>
        <dd>{event.occurredAt}</dd>
        <dt>Actor</dt>
        <dd>{event.actor ?? '—'}</dd>
        <dt>Correlation id</dt>
        <dd className="mono">{event.correlationId}</dd>
        <dt>Caused by</dt>
        <dd className="mono">{event.causationId ?? '— (the request itself)'}</dd>
      </dl>
      <h3>Payload</h3>
      <pre className="payload">{payload}</pre>
      <h3>Causation chain ({chain.length} events of this correlation id)</h3>
      {event.position > CHAIN_LOOKBACK ? <p className="hint">From position {event.position - CHAIN_LOOKBACK} on.</p> : null}
      <ErrorList error={error} />
      <div data-testid="causation-chain">
        <ChainList nodes={chainTree(chain)} focus={event.id} />
      </div>
    </div>
  );
}
