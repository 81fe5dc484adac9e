// The clients frontends use, each from npm, subscribing to memberUpdated through the gateway and
// reporting what they receive into an inbox the tests take from (never waiting on time).
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { Client as UrqlClient, createRequest, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import { pipe, subscribe as subscribeSource } from 'wonka';
import WebSocket from 'ws';
import { Mailbox } from '../../support/mailbox';

export const MEMBER_UPDATED = /* GraphQL */ `
  subscription Watch($id: ID!) {
    memberUpdated(id: $id) { eventType correlationId cursor member { id firstName rewardPoints } }
  }
`;

export interface MemberUpdate {
  readonly eventType: string;
  readonly correlationId: string;
  readonly cursor: string;
  readonly member: { readonly id: string; readonly firstName: string; readonly rewardPoints: number };
}

export type Received =
  | { readonly kind: 'next'; readonly update: MemberUpdate; readonly extensionsCursor: unknown }
  | { readonly kind: 'error'; readonly code: string | undefined; readonly message: string }
  | { readonly kind: 'complete' };

/** What a subscription received, taken one at a time. */
export class Inbox extends Mailbox<Received> {
  next(value: unknown, extensions: unknown, errors: unknown): void {
    const list = Array.isArray(errors) ? (errors as { message: string; extensions?: { code?: string } }[]) : [];
    if (list.length > 0) {
      this.push({ kind: 'error', code: list[0]?.extensions?.code, message: list[0]?.message ?? '' });
      return;
    }
    const update = (value as { memberUpdated?: MemberUpdate } | null | undefined)?.memberUpdated;
    if (!update) return;
    this.push({ kind: 'next', update, extensionsCursor: (extensions as { cursor?: unknown } | undefined)?.cursor });
  }

  error(error: unknown): void {
    const e = error as { message?: string; errors?: { message: string; extensions?: { code?: string } }[]; graphQLErrors?: { extensions?: { code?: string } }[] };
    const code = e?.errors?.[0]?.extensions?.code ?? e?.graphQLErrors?.[0]?.extensions?.code;
    this.push({ kind: 'error', code, message: e?.message ?? String(error) });
  }

  /** A graphql-ws / graphql-sse sink into this inbox. */
  sink(): { next: (result: { data?: unknown; extensions?: unknown; errors?: unknown }) => void; error: (error: unknown) => void; complete: () => void } {
    return {
      next: (result) => this.next(result.data, result.extensions, result.errors),
      error: (error) => this.error(error),
      complete: () => this.push({ kind: 'complete' }),
    };
  }

  override take(what: string, timeoutMs = 15_000): Promise<Received> {
    return super.take(what, timeoutMs);
  }

  async takeUpdate(what: string): Promise<Extract<Received, { kind: 'next' }>> {
    const item = await this.take(what);
    if (item.kind !== 'next') throw new Error(`Expected ${what}, got ${JSON.stringify(item)}`);
    return item;
  }
}

export interface Subscribing {
  /** The gateway's http(s) URL of /graphql. */
  readonly url: string;
  readonly token: string | null;
  readonly memberId: string;
  /** Resume after this cursor. */
  readonly cursor: string | null;
  readonly inbox: Inbox;
}

export interface ClientUnderTest {
  readonly name: string;
  /** How it resumes: `extensions` (extensions.cursor) or `last-event-id` (SSE's header). */
  readonly resumesWith: 'extensions' | 'last-event-id';
  /** Subscribe; returns what ends it (and the client). */
  subscribe(s: Subscribing): () => void;
}

const wsUrl = (url: string) => url.replace(/^http/, 'ws');
const bearer = (token: string | null): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

function apollo(link: ConstructorParameters<typeof ApolloClient>[0]['link'], s: Subscribing, dispose: () => void = () => undefined): () => void {
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const subscription = client
    .subscribe({ query: gql(MEMBER_UPDATED), variables: { id: s.memberId }, fetchPolicy: 'no-cache', ...(s.cursor ? { extensions: { cursor: s.cursor } } : {}) })
    .subscribe({
      next: (result) => {
        if (result.error) s.inbox.error(result.error);
        else s.inbox.next(result.data, result.extensions, undefined);
      },
      error: (error: unknown) => s.inbox.error(error),
      complete: () => s.inbox.push({ kind: 'complete' }),
    });
  return () => {
    subscription.unsubscribe();
    client.stop();
    dispose();
  };
}

function urql(client: UrqlClient, s: Subscribing, dispose: () => void = () => undefined): () => void {
  const request = createRequest(MEMBER_UPDATED, { id: s.memberId }, s.cursor ? { cursor: s.cursor } : undefined);
  const { unsubscribe } = pipe(
    client.executeSubscription(request),
    subscribeSource((result) => {
      if (result.error) {
        const first = result.error.graphQLErrors[0];
        s.inbox.push({ kind: 'error', code: first?.extensions?.code as string | undefined, message: result.error.message });
      } else s.inbox.next(result.data, result.extensions, undefined);
    }),
  );
  return () => {
    unsubscribe();
    dispose();
  };
}

function graphqlWs(s: Subscribing) {
  // No automatic retry: the application resubscribes with the last cursor (a retry would resend the first subscribe).
  return createWsClient({ url: wsUrl(s.url), connectionParams: bearer(s.token), retryAttempts: 0, lazy: true, webSocketImpl: WebSocket });
}

export const clients: readonly ClientUnderTest[] = [
  {
    name: 'Apollo Client, HttpLink (multipart)',
    resumesWith: 'extensions',
    subscribe: (s) => apollo(new HttpLink({ uri: s.url, headers: bearer(s.token) }), s),
  },
  {
    name: 'Apollo Client, GraphQLWsLink (graphql-ws)',
    resumesWith: 'extensions',
    subscribe: (s) => {
      const ws = graphqlWs(s);
      return apollo(new GraphQLWsLink(ws), s, () => void ws.dispose());
    },
  },
  {
    name: 'urql, fetchSubscriptions',
    resumesWith: 'extensions',
    subscribe: (s) =>
      urql(new UrqlClient({ url: s.url, exchanges: [fetchExchange], fetchSubscriptions: true, fetchOptions: { headers: bearer(s.token) } }), s),
  },
  {
    name: 'urql, subscriptionExchange (graphql-ws)',
    resumesWith: 'extensions',
    subscribe: (s) => {
      const ws = graphqlWs(s);
      const client = new UrqlClient({
        url: s.url,
        exchanges: [
          subscriptionExchange({
            forwardSubscription: (request) => ({
              subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
            }),
          }),
        ],
      });
      return urql(client, s, () => void ws.dispose());
    },
  },
  {
    name: 'graphql-sse, distinct connections',
    resumesWith: 'last-event-id',
    subscribe: (s) => {
      const client = createSseClient({
        url: s.url,
        retryAttempts: 0,
        headers: () => ({ ...bearer(s.token), ...(s.cursor ? { 'last-event-id': s.cursor } : {}) }),
      });
      const stop = client.subscribe(
        { query: MEMBER_UPDATED, variables: { id: s.memberId } },
        s.inbox.sink(),
      );
      return () => {
        stop();
        client.dispose();
      };
    },
  },
  {
    name: 'graphql-sse, single connection',
    resumesWith: 'extensions',
    subscribe: (s) => {
      const client = createSseClient({ url: s.url, singleConnection: true, retryAttempts: 0, lazy: true, headers: () => bearer(s.token) });
      const stop = client.subscribe(
        { query: MEMBER_UPDATED, variables: { id: s.memberId }, ...(s.cursor ? { extensions: { cursor: s.cursor } } : {}) },
        s.inbox.sink(),
      );
      return () => {
        stop();
        client.dispose();
      };
    },
  },
];
