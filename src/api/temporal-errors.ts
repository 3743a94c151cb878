import {
  isGrpcServiceError,
  ServiceError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import {
  NamespaceNotFoundError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/common';
import { AppError } from './errors';

// Every error from Temporal that a route did not turn into an answer of its own reaches the caller through this one
// mapping: never a 500 for what is Temporal's state or Temporal being away. A client that retries 503s (as the
// contract says to, after `Retry-After`) loses nothing: a submit is idempotent by its id.

/** The gRPC status codes Temporal answers with (grpc.io/docs/guides/status-codes). */
const GrpcStatus = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNAVAILABLE: 14,
} as const;

/** Seconds a caller should wait before trying again when Temporal is unavailable or overloaded. */
const RETRY_AFTER_SECONDS = 1;

const unavailable = (why: string) =>
  new AppError('unavailable', `the workflow service is unavailable (${why}); try again`, 503, [], RETRY_AFTER_SECONDS);

/** The gRPC error in an error or in one of its causes. */
function grpcError(err: unknown) {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e)) return e;
  }
  return undefined;
}

/**
 * The server's refusal of an id past its `limit.maxIDLength` ("WorkflowId length exceeds limit."). The API checks
 * the ids it takes against the same budget (domain/ids.ts), so this is a second line: a cluster set lower than the
 * stacks, or an id a check missed, is the caller's 400, not our 500.
 */
const ID_TOO_LONG = /\b(\w+) length exceeds limit/i;

const conflict = (message = 'the resource is not in a state that allows this; reload it') =>
  new AppError('conflict', message, 409);

/** What a Temporal error means for one call: the resource it is about, and how a refusal reads there. */
export interface TemporalErrorMeaning {
  /** Named in the 404 when the workflow does not exist (`document evt_1`). */
  notFound?: string;
  /** An Update its validator or handler refused (the failure is its cause): the answer, or undefined for a 409. */
  refused?: (failure: unknown) => AppError | undefined;
  /** A start that found the workflow there already: the answer (a 409 unless said). */
  alreadyStarted?: AppError;
}

/** Throws the answer a Temporal error means for this call, or the error itself when it is not one (a 500). */
export function rethrowTemporal(err: unknown, meaning: TemporalErrorMeaning): never {
  throw temporalErrorAnswer(err, meaning) ?? err;
}

/** The answer for an error from Temporal, or undefined when it is not one. */
export function temporalErrorAnswer(err: unknown, meaning: TemporalErrorMeaning = {}): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err instanceof WorkflowNotFoundError) return AppError.notFound(meaning.notFound ?? 'the resource');
  if (err instanceof WorkflowUpdateFailedError) return meaning.refused?.(err.cause) ?? conflict();
  if (err instanceof WorkflowExecutionAlreadyStartedError) return meaning.alreadyStarted ?? conflict('already exists');
  // The server has not loaded the namespace yet (as for a moment after a database restart).
  if (err instanceof NamespaceNotFoundError) return unavailable('its namespace is not loaded yet');
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return unavailable('the request timed out');
  const grpc = grpcError(err);
  const code = grpc?.code;
  const tooLong = code === GrpcStatus.INVALID_ARGUMENT ? ID_TOO_LONG.exec(grpc?.details ?? '') : null;
  if (tooLong) {
    const message = `an id in this request makes a ${tooLong[1]} longer than the workflow service takes; use a shorter id`;
    return new AppError('id_too_long', message, 400);
  }
  switch (code) {
    case GrpcStatus.NOT_FOUND:
      return AppError.notFound('the resource');
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.FAILED_PRECONDITION:
      return conflict();
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return unavailable('it is overloaded');
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED:
    case GrpcStatus.ABORTED:
    case GrpcStatus.CANCELLED:
      return unavailable('it did not answer');
  }
  // The connection never opened (Connection.lazy: the server is down). Any other status is a fault of ours: a 500.
  if (code === undefined && (err instanceof ServiceError || /ECONNREFUSED|Failed to connect/.test(String(err)))) {
    return unavailable('no connection');
  }
  return undefined;
}
