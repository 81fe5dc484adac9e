// Small pieces every page uses: the live connection badge, coded errors, a field with its error.
import type { ReactNode } from 'react';
import { ApiError } from '../api/client';
import { useConnectionState } from '../api/session';

export function ConnectionBadge() {
  const { state, drops } = useConnectionState();
  const label = state === 'connected' ? 'live' : state === 'connecting' ? 'connecting…' : state === 'reconnecting' ? 'connection lost: reconnecting…' : 'closed';
  return (
    <span className={`badge badge-${state}`} data-testid="connection" data-state={state} title={`${drops} drop(s) since sign-in; subscriptions resume from their cursor`}>
      {label}
    </span>
  );
}

export function ErrorList({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError) {
    return (
      <ul className="errors" role="alert">
        {error.errors.map((e, i) => (
          <li key={i}>
            {e.extensions?.code ? <code>{e.extensions.code}</code> : null} {e.message}
          </li>
        ))}
      </ul>
    );
  }
  return (
    <ul className="errors" role="alert">
      <li>{error instanceof Error ? error.message : String(error)}</li>
    </ul>
  );
}

/** A labelled form field, with the API's coded error about it (extensions.field) beside it. */
export function Field({ label, name, error, children }: { label: string; name: string; error: unknown; children: ReactNode }) {
  const fieldError = error instanceof ApiError ? error.forField(name) : undefined;
  return (
    <label className="field">
      <span>{label}</span>
      {children}
      {fieldError ? (
        <span className="field-error" role="alert" data-field={name}>
          <code>{fieldError.extensions?.code}</code> {fieldError.message}
        </span>
      ) : null}
    </label>
  );
}

export function time(iso: string): string {
  const d = new Date(iso);
  return `${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
