import {
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Config } from '../config';
import { deliveryWorkflowId, endpointWorkflowId, parsePendingKeyTail } from '../domain/ids';
import type {
  CreateCustomer,
  DocumentInput,
  DocumentState,
  DocumentType,
  EndpointState,
  Environment,
  Preferences,
  PutWebhook,
  SubmitDocument,
} from '../domain/schemas';
import { ENVIRONMENTS } from '../domain/schemas';
import { CustomerIdKey, DeliveryStatusKey, DocumentTypeKey, EnvironmentKey } from '../domain/search-attributes';
import { generateApiKey, hashApiKey } from '../lib/api-keys';
import { generateWebhookSecret } from '../lib/signature';
import { countPending, pendingPage } from '../lib/pending-store';
import { createEndpointReader } from '../lib/temporal';
import type { deliverDocument, endpointEntity } from '../workflows';
import {
  acknowledgeUpdate,
  bucketChangedSignal,
  configureEndpointUpdate,
  documentStatusQuery,
  redeliverSignal,
  resendPendingUpdate,
  restoreSignal,
  setActiveUpdate,
  updatePreferencesUpdate,
} from '../workflows/messages';
import { AppError } from './errors';

// Starting a workflow whose id exists (running or closed) fails instead of creating a second one.
const START_ONCE = {
  workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
  workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
} as const;

// A cursor is the key tail of the last document a page returned: listing resumes after it in the bucket, so pages
// neither repeat nor skip documents while new ones arrive (they sort after everything already pending).
function encodeCursor(tail: string): string {
  return Buffer.from(tail).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const tail = Buffer.from(cursor, 'base64url').toString();
  if (parsePendingKeyTail(tail)) return tail;
  throw new AppError('validation_failed', 'query.cursor: not a cursor this API returned', 400, [
    { path: 'query.cursor', message: 'not a cursor this API returned', code: 'custom' },
  ]);
}

/** The API's only door to Temporal and S3: routes call these and never touch the clients themselves. */
export function createDeliveryService({ client, s3, config }: { client: Client; s3: S3Client; config: Config }) {
  const endpoints = createEndpointReader(client);

  /** One workflow per document, tagged so the Web UI can find it by customer, environment, type and status. */
  function startDelivery(
    document: DocumentInput,
    status: DocumentState['status'],
    idPolicies: Pick<WorkflowStartOptions, 'workflowIdConflictPolicy' | 'workflowIdReusePolicy'>,
  ) {
    return client.workflow.start<typeof deliverDocument>('deliverDocument', {
      workflowId: deliveryWorkflowId(document.environment, document.customerId, document.id),
      taskQueue: config.TASK_QUEUE,
      args: [document],
      typedSearchAttributes: [
        { key: CustomerIdKey, value: document.customerId },
        { key: EnvironmentKey, value: document.environment },
        { key: DocumentTypeKey, value: document.type },
        { key: DeliveryStatusKey, value: status },
      ],
      ...idPolicies,
    });
  }

  async function documentState(handle: WorkflowHandle<typeof deliverDocument>): Promise<DocumentState> {
    const description = await handle.describe();
    // A closed workflow's result is its final state and needs no worker to answer; a running one is queried.
    if (description.status.name === 'COMPLETED') return handle.result();
    return handle.query(documentStatusQuery);
  }

  return {
    findEndpoint: (environment: Environment, customerId: string) => endpoints.get(environment, customerId),

    /** How many documents wait in the customer's bucket prefix. */
    countPending: (environment: Environment, customerId: string) =>
      countPending(s3, { bucket: config.buckets[environment], customerId }),

    async createCustomer({ id, name }: CreateCustomer): Promise<Record<Environment, string>> {
      const apiKeys = {} as Record<Environment, string>;
      for (const environment of ENVIRONMENTS) {
        const apiKey = generateApiKey(environment, id);
        const initial: EndpointState = {
          customerId: id,
          customerName: name,
          environment,
          apiKeyHash: hashApiKey(apiKey),
          status: 'active',
          preferences: { pendingNotifications: true },
          counters: { retriesExhausted: 0, suspensions: 0, consecutiveExhausted: 0 },
          updatedAt: new Date().toISOString(),
        };
        try {
          await client.workflow.start<typeof endpointEntity>('endpointEntity', {
            workflowId: endpointWorkflowId(environment, id),
            taskQueue: config.TASK_QUEUE,
            args: [{ state: initial }],
            memo: { endpoint: initial },
            typedSearchAttributes: [
              { key: CustomerIdKey, value: id },
              { key: EnvironmentKey, value: environment },
            ],
            ...START_ONCE,
          });
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) {
            throw new AppError('conflict', `customer ${id} already exists`, 409);
          }
          throw err;
        }
        apiKeys[environment] = apiKey;
      }
      return apiKeys;
    },

    async configureWebhook(environment: Environment, customerId: string, webhook: PutWebhook): Promise<EndpointState> {
      const handle = client.workflow.getHandle(endpointWorkflowId(environment, customerId));
      try {
        return await handle.executeUpdate(configureEndpointUpdate, {
          args: [{ ...webhook, newSecret: generateWebhookSecret() }],
        });
      } catch (err) {
        // The entity's validator is the last line of defence; its rejection is the caller's bad input.
        if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
          throw new AppError('validation_failed', err.cause.message, 400);
        }
        throw err;
      }
    },

    async setActive(environment: Environment, customerId: string, active: boolean): Promise<EndpointState> {
      return client.workflow
        .getHandle(endpointWorkflowId(environment, customerId))
        .executeUpdate(setActiveUpdate, { args: [active] });
    },

    async updatePreferences(environment: Environment, customerId: string, preferences: Preferences) {
      return client.workflow
        .getHandle(endpointWorkflowId(environment, customerId))
        .executeUpdate(updatePreferencesUpdate, { args: [preferences] });
    },

    /** Starts delivery once per (environment, customer, id); a repeat returns the existing document's status. */
    async submitDocument(environment: Environment, doc: SubmitDocument): Promise<DocumentState['status']> {
      if (!(await endpoints.get(environment, doc.customerId))) throw AppError.notFound(`customer ${doc.customerId}`);
      const workflowId = deliveryWorkflowId(environment, doc.customerId, doc.id);
      try {
        await startDelivery({ ...doc, environment, createdAt: new Date().toISOString() }, 'sending', START_ONCE);
        return 'sending';
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        return (await documentState(client.workflow.getHandle(workflowId))).status;
      }
    },

    async getDocument(environment: Environment, customerId: string, id: string): Promise<DocumentState> {
      try {
        return await documentState(client.workflow.getHandle(deliveryWorkflowId(environment, customerId, id)));
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw AppError.notFound(`document ${id}`);
        throw err;
      }
    },

    /** The customer's pending documents, read from the bucket in the order they became pending. */
    async listPending(
      environment: Environment,
      customerId: string,
      { type, limit, cursor }: { type?: DocumentType; limit: number; cursor?: string },
    ) {
      const page = await pendingPage(s3, {
        bucket: config.buckets[environment],
        customerId,
        after: cursor ? decodeCursor(cursor) : undefined,
        limit,
        filter: type ? (o) => o.type === type : undefined,
      });
      const last = page.items.at(-1);
      return {
        data: page.items.map(({ id, type, createdAt, pendingSince, expiresAt }) => ({
          id,
          type,
          createdAt,
          pendingSince,
          expiresAt,
        })),
        nextCursor: page.more && last ? encodeCursor(last.tail) : null,
      };
    },

    /** The stored document, as the receiver would have got it. */
    async pullPending(environment: Environment, customerId: string, id: string) {
      const state = await this.getDocument(environment, customerId, id);
      if (state.status !== 'pending' || !state.objectKey) throw AppError.notFound(`pending document ${id}`);
      const object = await s3
        .send(new GetObjectCommand({ Bucket: config.buckets[environment], Key: state.objectKey }))
        .catch((err: S3ServiceException) => {
          // Acknowledged, delivered or expired between the status read and this one.
          if (err.name === 'NoSuchKey') throw AppError.notFound(`pending document ${id}`);
          throw err;
        });
      const stored = JSON.parse(await object.Body!.transformToString()) as DocumentInput;
      return { id: stored.id, type: stored.type, createdAt: stored.createdAt, data: stored.data };
    },

    async acknowledge(environment: Environment, customerId: string, id: string): Promise<DocumentState> {
      try {
        const state = await client.workflow
          .getHandle(deliveryWorkflowId(environment, customerId, id))
          .executeUpdate(acknowledgeUpdate);
        // It expired while the acknowledge was on its way: not pending any more.
        if (state.status === 'expired') throw AppError.notFound(`pending document ${id}`);
        return state;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError) {
          throw AppError.notFound(`pending document ${id}`);
        }
        throw err;
      }
    },

    /** Attempts a pending document now, even while the endpoint is suspended; 404 unless it is pending. */
    async resend(environment: Environment, customerId: string, id: string): Promise<void> {
      const handle = client.workflow.getHandle(deliveryWorkflowId(environment, customerId, id));
      const state = await this.getDocument(environment, customerId, id);
      if (state.status !== 'pending') throw AppError.notFound(`pending document ${id}`);
      try {
        await handle.signal(redeliverSignal, { trigger: 'manual', reason: 'resend' });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw AppError.notFound(`pending document ${id}`);
        throw err;
      }
    },

    /** Several ids: each is resent now, and the ones not pending are reported. None: the entity resends them all. */
    async resendMany(environment: Environment, customerId: string, ids?: string[]) {
      if (!ids) {
        const count = await this.countPending(environment, customerId);
        await client.workflow.getHandle(endpointWorkflowId(environment, customerId)).executeUpdate(resendPendingUpdate);
        return { count, skipped: [] };
      }
      const skipped: string[] = [];
      for (const id of ids) {
        try {
          await this.resend(environment, customerId, id);
        } catch (err) {
          if (!(err instanceof AppError) || err.httpStatus !== 404) throw err;
          skipped.push(id);
        }
      }
      return { count: ids.length - skipped.length, skipped };
    },

    /**
     * The account-manager path: expired documents come back from the cold store as pending, with a new retention
     * window. Each restore is recorded (who, when, which) next to the cold store, for billing.
     */
    async restore(environment: Environment, customerId: string, { ids, since }: { ids?: string[]; since?: string }) {
      if (!(await endpoints.get(environment, customerId))) throw AppError.notFound(`customer ${customerId}`);
      const Bucket = config.buckets[environment];
      const cold: { key: string; id: string }[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket, Prefix: `expired/${customerId}/`, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) {
          const id = object.Key!.slice(`expired/${customerId}/`.length, -'.json'.length);
          if (ids && !ids.includes(id)) continue;
          if (since && object.LastModified && object.LastModified < new Date(since)) continue;
          cold.push({ key: object.Key!, id });
        }
        token = page.NextContinuationToken;
      } while (token);

      const restored: string[] = [];
      for (const { key, id } of cold) {
        const handle = client.workflow.getHandle(deliveryWorkflowId(environment, customerId, id));
        try {
          // Its workflow is keeping it in the cold store: it becomes pending again in place.
          await handle.signal(restoreSignal);
          restored.push(id);
          continue;
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
        // Its workflow has ended (the cold copy outlived it): a new run brings the copy back.
        const object = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
        const stored = JSON.parse(await object.Body!.transformToString()) as Omit<DocumentInput, 'customerId'>;
        try {
          // The ended run's id is reused: a new run takes its place.
          await startDelivery({ ...stored, customerId, environment, restoredFrom: key }, 'pending', {
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          });
          restored.push(id);
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
      }
      // The restored documents wait for the customer; the entity tells them in its next notification.
      if (restored.length > 0) {
        await client.workflow.getHandle(endpointWorkflowId(environment, customerId)).signal(bucketChangedSignal, {});
      }
      const at = new Date().toISOString();
      await s3.send(
        new PutObjectCommand({
          Bucket,
          Key: `restores/${customerId}/${at}.json`,
          ContentType: 'application/json',
          Body: JSON.stringify({ by: 'operator', at, environment, customerId, count: restored.length, ids: restored }),
        }),
      );
      return { count: restored.length, ids: restored };
    },

    /** Healthy when Temporal answers and both buckets exist. */
    async checkHealth(): Promise<void> {
      await client.connection.ensureConnected();
      await client.workflowService.getSystemInfo({});
      for (const environment of ENVIRONMENTS) {
        await s3.send(new HeadBucketCommand({ Bucket: config.buckets[environment] }));
      }
    },
  };
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
