// Analytics: the stream processor's windows and watermark, engagement and risk levels of members,
// and patterns as they fire (`patternDetected`, live).
import { useEffect, useRef, useState } from 'react';
import { request, subscribeLive, type ApiError } from '../api/client';
import { useSession } from '../api/session';
import { ErrorList, time } from '../components/common';

interface Status {
  readonly position: number;
  readonly watermark: string | null;
  readonly openWindows: number;
  readonly members: number;
  readonly lateEvents: number;
  readonly processed: number;
}

interface PatternUpdate {
  readonly id: string;
  readonly cursor: string;
  readonly occurredAt: string;
  readonly pattern: { readonly id: string; readonly pattern: string; readonly memberId: string; readonly ruleId: string; readonly action: string };
}

interface Scored {
  readonly id: string;
  readonly engagementScore: { readonly level: string } | null;
  readonly riskAssessment: { readonly level: string } | null;
}

const STATUS = `query ConsoleAnalytics { analyticsStatus { position watermark openWindows members lateEvents processed }
  detectedPatterns(first: 50) { edges { node { id pattern memberId ruleId action detectedAt } } } }`;
const LEVELS = `query ConsoleLevels { members(first: 100) { edges { node { id engagementScore { level } riskAssessment { level } } } } }`;
const STATUS_REFRESH_MS = 5000;
const PATTERNS = `subscription ConsolePatterns { patternDetected { id cursor occurredAt pattern { id pattern memberId ruleId action } } }`;

function distribution(members: readonly Scored[], pick: (m: Scored) => string | undefined): [string, number][] {
  const counts = new Map<string, number>();
  for (const m of members) {
    const level = pick(m);
    if (level) counts.set(level, (counts.get(level) ?? 0) + 1);
  }
  return [...counts.entries()].sort();
}

export function AnalyticsPage() {
  const { token, live } = useSession();
  const [status, setStatus] = useState<Status | null>(null);
  const [members, setMembers] = useState<readonly Scored[]>([]);
  const [patterns, setPatterns] = useState<readonly PatternUpdate[]>([]);
  const [error, setError] = useState<unknown>(null);
  const seeded = useRef(false);

  const load = () => {
    request<{ analyticsStatus: Status; detectedPatterns: { edges: { node: PatternUpdate['pattern'] & { detectedAt: string } }[] } }>(token, STATUS)
      .then((d) => {
        setStatus(d.analyticsStatus);
        setError(null);
        // The patterns found before the page opened, once; later ones come from the subscription only.
        if (!seeded.current) {
          seeded.current = true;
          const earlier = d.detectedPatterns.edges.map(({ node }) => ({ id: node.id, cursor: '', occurredAt: node.detectedAt, pattern: node }));
          setPatterns((prev) => [...prev, ...earlier.filter((e) => !prev.some((p) => p.pattern.id === e.pattern.id))]);
        }
      })
      .catch(setError);
    request<{ members: { edges: { node: Scored }[] } }>(token, LEVELS)
      .then((d) => setMembers(d.members.edges.map((e) => e.node)))
      .catch(setError);
  };
  useEffect(() => {
    load();
    // The processor's figures have no subscription: read again every few seconds while open.
    const timer = setInterval(load, STATUS_REFRESH_MS);
    let stop: (() => void) | undefined;
    let cancelled = false;
    // Patterns from the store's head on: a drop before the first one still resumes without a gap.
    void request<{ eventMonitor: { headPosition: number } }>(token, 'query ConsolePatternsHead { eventMonitor { headPosition } }')
      .then((d) => String(d.eventMonitor.headPosition))
      .catch(() => null)
      .then((cursor) => {
        if (cancelled) return;
        stop = subscribeLive<{ patternDetected: PatternUpdate }>(live, {
          query: PATTERNS,
          cursor,
          cursorOf: (d) => d.patternDetected.cursor,
          onData: (d) => setPatterns((prev) => [d.patternDetected, ...prev.filter((p) => p.pattern.id !== d.patternDetected.pattern.id)].slice(0, 200)),
          onError: (e: ApiError) => setError(e),
        });
      });
    return () => {
      cancelled = true;
      clearInterval(timer);
      stop?.();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [token, live]);

  return (
    <div>
      <ErrorList error={error} />
      <section>
        <h2>
          Stream processor <button onClick={load}>Refresh</button>
        </h2>
        {status ? (
          <div className="cards">
            <div className="card">
              <strong>{status.openWindows}</strong>
              <span>open windows</span>
            </div>
            <div className="card">
              <strong>{status.members}</strong>
              <span>members tracked</span>
            </div>
            <div className="card">
              <strong>{status.processed}</strong>
              <span>events processed</span>
            </div>
            <div className="card">
              <strong>{status.lateEvents}</strong>
              <span>late events</span>
            </div>
            <div className="card">
              <strong>{status.watermark ? time(status.watermark) : '—'}</strong>
              <span>watermark</span>
            </div>
          </div>
        ) : null}
      </section>
      <div className="split">
        <section>
          <h2>Engagement (first {members.length} members)</h2>
          <Bars rows={distribution(members, (m) => m.engagementScore?.level)} />
          <h2>Risk</h2>
          <Bars rows={distribution(members, (m) => m.riskAssessment?.level)} />
        </section>
        <section>
          <h2>Patterns firing (live)</h2>
          <ol className="timeline" data-testid="patterns">
            {patterns.map((p) => (
              <li key={p.pattern.id} data-pattern={p.pattern.pattern} data-member={p.pattern.memberId}>
                <span className="hint">{time(p.occurredAt)}</span> <strong>{p.pattern.pattern}</strong> member {p.pattern.memberId} → {p.pattern.action}
              </li>
            ))}
          </ol>
        </section>
      </div>
    </div>
  );
}

function Bars({ rows }: { rows: readonly [string, number][] }) {
  const max = Math.max(1, ...rows.map(([, n]) => n));
  return (
    <div className="bars">
      {rows.map(([label, n]) => (
        <div key={label} className="bar">
          <span>{label}</span>
          <div style={{ width: `${(n / max) * 100}%` }} />
          <span>{n}</span>
        </div>
      ))}
    </div>
  );
}
