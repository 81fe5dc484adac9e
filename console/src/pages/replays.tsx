// Replays and rebuilds: start one (range, types, targets) or a projection rebuild, watch it with a
// progress bar, rate and ETA from `replayProgress`, cancel it; the history with its stats.
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, request, subscribeLive } from '../api/client';
import { useSession } from '../api/session';
import { ErrorList, Field, time } from '../components/common';

interface ReplayRow {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly from: string;
  readonly to: string;
  readonly targets: readonly string[];
  readonly requestedAt: string;
  readonly processed: number;
  readonly total: number;
  readonly errors: number;
  readonly ratePerSecond: number;
  readonly stats: { readonly durationMs: number; readonly events: number } | null;
}

interface Progress {
  readonly cursor: string;
  readonly status: string;
  readonly processed: number;
  readonly total: number;
  readonly ratePerSecond: number;
  readonly estimatedSecondsLeft: number | null;
  readonly errors: number;
  readonly final: boolean;
}

interface Target {
  readonly name: string;
  readonly kind: string;
}

const REPLAY_FIELDS = 'id kind status from to targets requestedAt processed total errors ratePerSecond stats { durationMs events }';
const HISTORY = `query ConsoleReplays { replays(first: 20) { edges { node { ${REPLAY_FIELDS} } } } replayTargets { name kind } }`;
const START = `mutation ConsoleStartReplay($input: StartReplayInput!) { startReplay(input: $input) { ${REPLAY_FIELDS} } }`;
const REBUILD = `mutation ConsoleRebuild($name: String!) { rebuildProjection(name: $name) { ${REPLAY_FIELDS} } }`;
const CANCEL = `mutation ConsoleCancelReplay($id: ID!) { cancelReplay(id: $id) { id status } }`;
const PROGRESS = `subscription ConsoleReplayProgress($id: ID!) { replayProgress(id: $id) { cursor status processed total ratePerSecond estimatedSecondsLeft errors final } }`;

export function ReplaysPage() {
  const { token } = useSession();
  const [history, setHistory] = useState<readonly ReplayRow[]>([]);
  const [targets, setTargets] = useState<readonly Target[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [formError, setFormError] = useState<unknown>(null);
  const [watching, setWatching] = useState<string | null>(null);
  const [from, setFrom] = useState('2000-01-01T00:00:00Z');
  const [to, setTo] = useState('');
  const [types, setTypes] = useState('');
  const [chosen, setChosen] = useState<readonly string[]>([]);

  const load = () =>
    request<{ replays: { edges: { node: ReplayRow }[] }; replayTargets: Target[] }>(token, HISTORY)
      .then((d) => {
        setHistory(d.replays.edges.map((e) => e.node));
        setTargets(d.replayTargets);
      })
      .catch(setError);
  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [token]);

  const start = async (e: FormEvent) => {
    e.preventDefault();
    setFormError(null);
    try {
      const typeList = types
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '');
      const input = { from, to: to.trim() === '' ? new Date().toISOString() : to, targets: chosen, ...(typeList.length ? { types: typeList } : {}) };
      const { startReplay } = await request<{ startReplay: ReplayRow }>(token, START, { input });
      setWatching(startReplay.id);
      void load();
    } catch (err) {
      setFormError(err);
    }
  };
  const rebuild = async (projection: string) => {
    setFormError(null);
    try {
      const { rebuildProjection } = await request<{ rebuildProjection: ReplayRow }>(token, REBUILD, { name: projection });
      setWatching(rebuildProjection.id);
      void load();
    } catch (err) {
      setFormError(err);
    }
  };

  return (
    <div className="replays">
      <ErrorList error={error} />
      <div className="split">
        <section>
          <h2>Start a replay</h2>
          <form onSubmit={start} data-testid="replay-form">
            <Field label="From (RFC 3339)" name="from" error={formError}>
              <input name="from" value={from} onChange={(e) => setFrom(e.target.value)} />
            </Field>
            <Field label="To (RFC 3339; now when empty)" name="to" error={formError}>
              <input name="to" value={to} placeholder="now" onChange={(e) => setTo(e.target.value)} />
            </Field>
            <Field label="Event types (comma-separated; all when empty)" name="types" error={formError}>
              <input name="types" value={types} onChange={(e) => setTypes(e.target.value)} />
            </Field>
            <Field label="Targets" name="targets" error={formError}>
              <div className="checks">
                {targets.map((t) => (
                  <label key={t.name}>
                    <input
                      type="checkbox"
                      name={`target-${t.name}`}
                      checked={chosen.includes(t.name)}
                      onChange={(e) => setChosen((prev) => (e.target.checked ? [...prev, t.name] : prev.filter((n) => n !== t.name)))}
                    />
                    {t.name} <span className="hint">{t.kind.toLowerCase()}</span>
                  </label>
                ))}
              </div>
            </Field>
            <button type="submit">Start replay</button>
            <ErrorList error={formError instanceof ApiError && ['from', 'to', 'types', 'targets'].some((f) => formError.forField(f)) ? null : formError} />
          </form>
          <h2>Rebuild a projection</h2>
          <div className="inline">
            {targets
              .filter((t) => t.kind === 'PROJECTION')
              .map((t) => (
                <button key={t.name} onClick={() => void rebuild(t.name)}>
                  Rebuild {t.name}
                </button>
              ))}
          </div>
        </section>
        <section>{watching ? <ReplayWatch key={watching} id={watching} onFinished={() => void load()} /> : <p className="hint">Start a replay or pick one from the history to watch it.</p>}</section>
      </div>
      <section>
        <h2>
          History <button onClick={() => void load()}>Refresh</button>
        </h2>
        <table>
          <thead>
            <tr>
              <th>Replay</th>
              <th>Kind</th>
              <th>Status</th>
              <th>Targets</th>
              <th>Processed</th>
              <th>Errors</th>
              <th>Rate</th>
              <th>Duration</th>
              <th>Requested</th>
            </tr>
          </thead>
          <tbody>
            {history.map((r) => (
              <tr key={r.id} onClick={() => setWatching(r.id)} className={watching === r.id ? 'selected' : ''}>
                <td className="mono">{r.id}</td>
                <td>{r.kind}</td>
                <td>{r.status}</td>
                <td>{r.targets.join(', ')}</td>
                <td>
                  {r.processed}/{r.total}
                </td>
                <td>{r.errors}</td>
                <td>{r.ratePerSecond.toFixed(0)}/s</td>
                <td>{r.stats ? `${(r.stats.durationMs / 1000).toFixed(1)} s` : '—'}</td>
                <td>{time(r.requestedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}

function ReplayWatch({ id, onFinished }: { id: string; onFinished: () => void }) {
  const { token, live } = useSession();
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(
    () =>
      subscribeLive<{ replayProgress: Progress }>(live, {
        query: PROGRESS,
        variables: { id },
        cursorOf: (d) => d.replayProgress.cursor,
        onData: (d) => {
          setProgress(d.replayProgress);
          if (d.replayProgress.final) onFinished();
        },
        onError: setError,
      }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [live, id],
  );
  const cancel = async () => {
    try {
      await request(token, CANCEL, { id });
    } catch (err) {
      setError(err);
    }
  };
  const percent = progress && progress.total > 0 ? Math.floor((progress.processed / progress.total) * 100) : progress?.final ? 100 : 0;
  return (
    <div data-testid="replay-watch" data-replay={id}>
      <h2>
        Replay <span className="mono">{id}</span> <span className="pill" data-testid="replay-status">{progress?.status ?? 'waiting…'}</span>
      </h2>
      <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} data-testid="replay-progress">
        <div style={{ width: `${percent}%` }} />
        <span>{percent} %</span>
      </div>
      {progress ? (
        <p data-testid="replay-figures">
          {progress.processed} of {progress.total} events · {progress.ratePerSecond.toFixed(0)} events/s · ETA {progress.estimatedSecondsLeft === null ? '—' : `${progress.estimatedSecondsLeft.toFixed(1)} s`} · {progress.errors} errors
        </p>
      ) : null}
      <ErrorList error={error} />
      {!progress?.final ? <button onClick={() => void cancel()}>Cancel</button> : null}
    </div>
  );
}
