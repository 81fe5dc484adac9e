// Certifications: counts by lifecycle state, expiries coming up (what the scheduler will act on),
// and one certification's history, live from `certificationLifecycle`.
import { useEffect, useState, type FormEvent } from 'react';
import { request, subscribeLive, type ApiError } from '../api/client';
import { useSession } from '../api/session';
import { ErrorList, time } from '../components/common';

const STATES = ['APPLIED', 'UNDER_REVIEW', 'APPROVED', 'REJECTED', 'ISSUED', 'ACTIVE', 'EXPIRING', 'RENEWED', 'EXPIRED', 'SUSPENDED', 'REVOKED'] as const;

interface CertRow {
  readonly id: string;
  readonly memberId: string;
  readonly certType: string;
  readonly status: string;
  readonly expiryDate: string | null;
}

interface Transition {
  readonly id: string;
  readonly eventType: string;
  readonly occurredAt: string;
  readonly fromState: string | null;
  readonly toState: string;
  readonly reason: string | null;
}

const counts = `query ConsoleCertCounts($soon: DateTimeISO!) { ${STATES.map((s) => `count${s}: certifications(status: ${s}, first: 0) { totalCount }`).join(' ')}
  upcoming: certifications(expiringBefore: $soon, first: 50) { edges { node { id memberId certType status expiryDate } } }
  latest: certifications(first: 50) { edges { node { id memberId certType status expiryDate } } } }`;
const HISTORY = `query ConsoleCertHistory($id: ID!) { certification(id: $id) { id status certType memberId timeline(first: 100) { edges { node { id eventType occurredAt fromState toState reason } } } } }`;
const LIFECYCLE = `subscription ConsoleCertLifecycle($id: ID!) { certificationLifecycle(id: $id) { id cursor occurredAt eventType fromState toState certification { status } } }`;

export function CertificationsPage() {
  const { token } = useSession();
  const [data, setData] = useState<{ counts: Map<string, number>; expiring: CertRow[]; recent: CertRow[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [certId, setCertId] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const load = () => {
    const soon = new Date(Date.now() + 90 * 86_400_000).toISOString();
    request<Record<string, { totalCount: number } | { edges: { node: CertRow }[] }>>(token, counts, { soon })
      .then((d) => {
        const c = new Map<string, number>();
        for (const s of STATES) c.set(s, (d[`count${s}`] as { totalCount: number }).totalCount);
        setData({ counts: c, expiring: (d.upcoming as { edges: { node: CertRow }[] }).edges.map((e) => e.node), recent: (d.latest as { edges: { node: CertRow }[] }).edges.map((e) => e.node) });
      })
      .catch(setError);
  };
  useEffect(load, [token]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (certId.trim()) setOpen(certId.trim());
  };
  const rows = (list: readonly CertRow[]) => (
    <table>
      <thead>
        <tr>
          <th>Certification</th>
          <th>Member</th>
          <th>Type</th>
          <th>State</th>
          <th>Expires</th>
        </tr>
      </thead>
      <tbody>
        {list.map((c) => (
          <tr key={c.id} onClick={() => setOpen(c.id)} className={open === c.id ? 'selected' : ''}>
            <td className="mono">{c.id}</td>
            <td>{c.memberId}</td>
            <td>{c.certType}</td>
            <td>{c.status}</td>
            <td>{c.expiryDate ? new Date(c.expiryDate).toLocaleDateString() : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
  return (
    <div>
      <ErrorList error={error} />
      <section>
        <h2>
          By state <button onClick={load}>Refresh</button>
        </h2>
        <div className="cards" data-testid="cert-counts">
          {STATES.map((s) => (
            <div className="card" key={s}>
              <strong>{data?.counts.get(s) ?? '…'}</strong>
              <span>{s}</span>
            </div>
          ))}
        </div>
      </section>
      <div className="split">
        <section>
          <h2>Expiring in the next 90 days</h2>
          {rows(data?.expiring ?? [])}
          <h2>Latest</h2>
          {rows(data?.recent ?? [])}
        </section>
        <section>
          <form onSubmit={submit} className="inline">
            <input name="certificationId" placeholder="Certification id" value={certId} onChange={(e) => setCertId(e.target.value)} />
            <button type="submit">Open</button>
          </form>
          {open ? <CertificationHistory key={open} id={open} /> : <p className="hint">Pick a certification to see its history.</p>}
        </section>
      </div>
    </div>
  );
}

function CertificationHistory({ id }: { id: string }) {
  const { token, live } = useSession();
  const [timeline, setTimeline] = useState<readonly Transition[]>([]);
  const [status, setStatus] = useState<string>('');
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stop: (() => void) | undefined;
    request<{ certification: { status: string; timeline: { edges: { node: Transition }[] } } | null }>(token, HISTORY, { id })
      .then((d) => {
        if (!d.certification) throw new Error(`No certification ${id}.`);
        setStatus(d.certification.status);
        setTimeline(d.certification.timeline.edges.map((e) => e.node));
        stop = subscribeLive<{ certificationLifecycle: Transition & { cursor: string; certification: { status: string } } }>(live, {
          query: LIFECYCLE,
          variables: { id },
          cursorOf: (u) => u.certificationLifecycle.cursor,
          onData: (u) => {
            setStatus(u.certificationLifecycle.certification.status);
            setTimeline((prev) => (prev.some((t) => t.id === u.certificationLifecycle.id) ? prev : [...prev, { ...u.certificationLifecycle, reason: null }]));
          },
          onError: (e: ApiError) => setError(e),
        });
      })
      .catch(setError);
    return () => stop?.();
  }, [token, live, id]);
  return (
    <div data-testid="cert-history">
      <h2>
        <span className="mono">{id}</span> <span className="pill">{status}</span>
      </h2>
      <ErrorList error={error} />
      <ol className="timeline">
        {timeline.map((t) => (
          <li key={t.id}>
            <span className="hint">{time(t.occurredAt)}</span> {t.fromState ?? '∅'} → <strong>{t.toState}</strong> <span className="mono">{t.eventType}</span> {t.reason ? <em>{t.reason}</em> : null}
          </li>
        ))}
      </ol>
    </div>
  );
}
