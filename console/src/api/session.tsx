// Who is signed in: the bearer token (kept in this tab's sessionStorage only), the viewer the API
// says it is, and the live connection opened with it.
import { createContext, useContext, useEffect, useState } from 'react';
import { LiveConnection, request, type ConnectionState } from './client';

export interface Viewer {
  readonly id: string;
  readonly role: 'ADMIN' | 'MEMBER' | 'SYSTEM';
}

export interface Session {
  readonly token: string;
  readonly viewer: Viewer;
  readonly live: LiveConnection;
  signOut(): void;
}

const TOKEN_KEY = 'membership-console-token';

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Checks a token by asking the API who it is; keeps it when the API accepts it. */
export async function signIn(token: string): Promise<Viewer> {
  const data = await request<{ viewer: Viewer }>(token, 'query ConsoleViewer { viewer { id role } }');
  sessionStorage.setItem(TOKEN_KEY, token);
  return data.viewer;
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The live connection's state, re-rendered as it changes. */
export function useConnectionState(): { state: ConnectionState; drops: number } {
  const { live } = useSession();
  const [state, setState] = useState<ConnectionState>(live.current);
  useEffect(() => live.watch(setState), [live]);
  return { state, drops: live.drops };
}
