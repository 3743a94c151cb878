import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  ApplicationFailure,
  NamespaceNotFoundError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/common';
import { AppError } from '../../src/api/errors';
import { temporalErrorAnswer } from '../../src/api/temporal-errors';

/** A gRPC error as the client raises it: a message, a status code, metadata. */
const grpc = (code: number) => Object.assign(new Error(`status ${code}`), { code, details: 'x', metadata: {} });
const answer = (err: unknown, meaning?: Parameters<typeof temporalErrorAnswer>[1]) => {
  const got = temporalErrorAnswer(err, meaning);
  return got && { status: got.httpStatus, code: got.code, message: got.message, retryAfter: got.retryAfterSeconds };
};

describe('the one mapping from Temporal errors to HTTP', () => {
  it("says what each error means, naming the call's resource", () => {
    assert.deepEqual(answer(new WorkflowNotFoundError('gone', 'wf', undefined), { notFound: 'document evt_1' }), {
      status: 404,
      code: 'not_found',
      message: 'document evt_1 not found',
      retryAfter: undefined,
    });
    const refusal = new WorkflowUpdateFailedError('refused', ApplicationFailure.nonRetryable('no', 'NoSecret'));
    assert.equal(answer(refusal)?.status, 409, 'a refused Update is a conflict unless the call says more');
    const noSecret = new AppError('no_webhook', 'configure it first', 409);
    assert.equal(temporalErrorAnswer(refusal, { refused: () => noSecret }), noSecret);
    const started = new WorkflowExecutionAlreadyStartedError('exists', 'wf', 'endpointEntity');
    assert.equal(answer(started)?.status, 409);
    const exists = new AppError('conflict', 'customer acme already exists', 409);
    assert.equal(temporalErrorAnswer(started, { alreadyStarted: exists }), exists);
  });

  it('Temporal away or overloaded is 503 with Retry-After, never a 500', () => {
    for (const err of [new NamespaceNotFoundError('default'), grpc(14), grpc(8), grpc(4), grpc(10), grpc(1)]) {
      const got = answer(err);
      assert.equal(got?.status, 503, String(err));
      assert.equal(got?.retryAfter, 1);
    }
    assert.equal(answer(grpc(9))?.status, 409, 'FAILED_PRECONDITION');
    assert.equal(answer(grpc(5))?.status, 404, 'NOT_FOUND');
  });

  it("is a 400 for an id past the server's limit.maxIDLength, wherever the gRPC error is in the causes", () => {
    const tooLong = Object.assign(grpc(3), { details: 'WorkflowId length exceeds limit.' });
    for (const err of [tooLong, new ServiceError('Failed to start Workflow', { cause: tooLong })]) {
      assert.deepEqual(answer(err), {
        status: 400,
        code: 'id_too_long',
        message: 'an id in this request makes a WorkflowId longer than the workflow service takes; use a shorter id',
        retryAfter: undefined,
      });
    }
    assert.equal(answer(grpc(3)), undefined, 'any other INVALID_ARGUMENT is a request of ours the server refused');
  });

  it('passes an answer through, and leaves what is not Temporal to be a 500', () => {
    const mine = AppError.notFound('pending document p1');
    assert.equal(temporalErrorAnswer(mine), mine);
    assert.equal(temporalErrorAnswer(new TypeError('a bug')), undefined);
    assert.equal(temporalErrorAnswer(grpc(13)), undefined, 'INTERNAL is a fault of ours');
  });
});
