// Coded domain errors. The core throws these; the GraphQL edge maps each code to
// `extensions.code`, and consumers decide retry or dead-letter from them.

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'FORBIDDEN'
  | 'UNAUTHENTICATED'
  | 'INVALID_TRANSITION'
  | 'UNKNOWN_EVENT_TYPE'
  | 'INVALID_EVENT'
  | 'UNAVAILABLE';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra facts for the caller (field names, versions, allowed transitions); must be JSON-safe. */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  constructor(message: string, details: Readonly<Record<string, unknown>> = {}) {
    super('BAD_USER_INPUT', message, details);
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string, details: Readonly<Record<string, unknown>> = {}) {
    super('NOT_FOUND', message, details);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'You may not do this.', details: Readonly<Record<string, unknown>> = {}) {
    super('FORBIDDEN', message, details);
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message = 'Authentication required: send a valid "Authorization: Bearer <token>" header.') {
    super('UNAUTHENTICATED', message);
  }
}

/** Optimistic concurrency failure: the stream moved on since the caller read it. */
export class ConcurrencyError extends DomainError {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number | 'no_stream' | 'any',
    readonly actualVersion: number,
  ) {
    super(
      'CONFLICT',
      `Stream ${streamId} is at version ${actualVersion}, not ${String(expectedVersion)}: reload and retry.`,
      { streamId, expectedVersion, actualVersion },
    );
  }
}

/**
 * A backend (MongoDB, RabbitMQ) cannot be reached right now: the call may be retried once it is back.
 * The message names the backend but no host (it reaches API clients); the driver's own error is
 * kept as `cause`, for logs.
 */
export class UnavailableError extends DomainError {
  constructor(
    readonly backend: string,
    cause?: unknown,
  ) {
    super('UNAVAILABLE', `${backend} is unavailable right now: try again in a few seconds.`, { backend, retryable: true });
    if (cause !== undefined) this.cause = cause;
  }
}

export class IllegalStateError extends DomainError {
  constructor(message: string, details: Readonly<Record<string, unknown>> = {}) {
    super('INVALID_TRANSITION', message, details);
  }
}

/** An event whose type is not in the catalog, or whose payload breaks its schema. */
export class EventContractError extends DomainError {
  constructor(code: 'UNKNOWN_EVENT_TYPE' | 'INVALID_EVENT', message: string, details: Readonly<Record<string, unknown>> = {}) {
    super(code, message, details);
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
