// The console's shell: sign-in with a bearer token, then the pages the viewer's role may see
// (admins all of them; members their own orders, certifications and the explorer), by hash route.
import { lazy, Suspense, useEffect, useMemo, useState, type FormEvent, type JSX } from 'react';
import { LiveConnection } from './api/client';
import { forgetToken, SessionContext, signIn, storedToken, type Session, type Viewer } from './api/session';
import { ConnectionBadge, ErrorList } from './components/common';
import { EventFlowPage } from './pages/event-flow';
import { SagasPage } from './pages/sagas';
import { ReplaysPage } from './pages/replays';
import { ConsumersPage } from './pages/consumers';
import { CertificationsPage } from './pages/certifications';
import { AnalyticsPage } from './pages/analytics';

// GraphiQL is the largest part of the bundle: loaded when the explorer is opened.
const ExplorerPage = lazy(() => import('./pages/explorer'));

interface PageDef {
  readonly path: string;
  readonly title: string;
  readonly adminOnly: boolean;
  readonly render: () => JSX.Element;
}

const pages: readonly PageDef[] = [
  { path: 'flow', title: 'Event flow', adminOnly: true, render: () => <EventFlowPage /> },
  { path: 'consumers', title: 'Consumers', adminOnly: true, render: () => <ConsumersPage /> },
  { path: 'sagas', title: 'Sagas', adminOnly: false, render: () => <SagasPage /> },
  { path: 'replays', title: 'Replays', adminOnly: true, render: () => <ReplaysPage /> },
  { path: 'certifications', title: 'Certifications', adminOnly: false, render: () => <CertificationsPage /> },
  { path: 'analytics', title: 'Analytics', adminOnly: true, render: () => <AnalyticsPage /> },
  {
    path: 'explorer',
    title: 'Explorer',
    adminOnly: false,
    render: () => (
      <Suspense fallback={<p>Loading the explorer…</p>}>
        <ExplorerPage />
      </Suspense>
    ),
  },
];

function useHashRoute(): string {
  const read = () => location.hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function SignIn({ onSignedIn }: { onSignedIn: (token: string, viewer: Viewer) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const clean = token.trim().replace(/^Bearer\s+/i, '');
      onSignedIn(clean, await signIn(clean));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="signin">
      <h1>Membership events console</h1>
      <form onSubmit={submit}>
        <label className="field">
          <span>Bearer token</span>
          <textarea name="token" rows={4} value={token} onChange={(e) => setToken(e.target.value)} placeholder="eyJhbGciOi… (npm run token -- --sub a1 --role admin)" />
        </label>
        <button type="submit" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
        <ErrorList error={error} />
      </form>
      <p className="hint">
        Admins see every page; members see their own orders and certifications. The token stays in this tab only. The <a href="#/explorer">explorer</a> works without signing
        in too (paste the token in its headers).
      </p>
    </main>
  );
}

export function App() {
  const route = useHashRoute();
  const [auth, setAuth] = useState<{ token: string; viewer: Viewer } | null>(null);
  const [restoring, setRestoring] = useState(() => storedToken() !== null);

  useEffect(() => {
    const token = storedToken();
    if (!token) return;
    signIn(token)
      .then((viewer) => setAuth({ token, viewer }))
      .catch(() => forgetToken())
      .finally(() => setRestoring(false));
  }, []);

  const session = useMemo<Session | null>(() => {
    if (!auth) return null;
    return {
      token: auth.token,
      viewer: auth.viewer,
      live: new LiveConnection(auth.token),
      signOut: () => {
        forgetToken();
        setAuth(null);
      },
    };
  }, [auth]);
  useEffect(() => () => session?.live.dispose(), [session]);

  if (restoring) return <p className="hint">Signing in…</p>;
  if (!session) {
    if (route === 'explorer') {
      return (
        <Suspense fallback={<p>Loading the explorer…</p>}>
          <ExplorerPage />
        </Suspense>
      );
    }
    return <SignIn onSignedIn={(token, viewer) => setAuth({ token, viewer })} />;
  }
  const isAdmin = session.viewer.role === 'ADMIN';
  const visible = pages.filter((p) => isAdmin || !p.adminOnly);
  const page = visible.find((p) => p.path === route) ?? visible[0]!;
  return (
    <SessionContext.Provider value={session}>
      <div className="shell">
        <header>
          <strong>Membership events</strong>
          <nav>
            {visible.map((p) => (
              <a key={p.path} href={`#/${p.path}`} className={p === page ? 'active' : ''}>
                {p.title}
              </a>
            ))}
          </nav>
          <span className="who" data-testid="viewer">
            {session.viewer.role.toLowerCase()} {session.viewer.id}
          </span>
          <ConnectionBadge />
          <button className="link" onClick={session.signOut}>
            Sign out
          </button>
        </header>
        <main data-page={page.path}>
          <h1>{page.title}</h1>
          {page.render()}
        </main>
      </div>
    </SessionContext.Provider>
  );
}
