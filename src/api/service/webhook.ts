import { ApplicationFailure, WithStartWorkflowOperation } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { endpointEntity } from '../../workflows';
import { endpointWorkflowId, FIRST_ENDPOINT_ID } from '../../domain/ids';
import type { EndpointState, Environment, PatchWebhook, Preferences, PutWebhook } from '../../domain/schemas';
import { otherEntityStart } from '../../lib/entity-start';
import { generateWebhookSecret } from '../../lib/signature';
import {
  type ConfigureEndpointInput,
  configureEndpointUpdate,
  DELETED_ENDPOINT,
  patchHeadersUpdate,
  rotateSecretUpdate,
  setActiveUpdate,
  updatePreferencesUpdate,
} from '../../workflows/messages';
import { AppError } from '../errors';
import { rethrowTemporal } from '../temporal-errors';
import type { ServiceContext } from './context';

/** An endpoint deleted while this request was on its way (it found the endpoint listed a moment before): 404. */
const deletedMeanwhile = (failure: unknown): AppError | undefined =>
  failure instanceof ApplicationFailure && failure.type === DELETED_ENDPOINT
    ? AppError.notFound('endpoint')
    : undefined;

/** The entity's validator names the field it refused (its failure's first detail): a 400 naming it. */
function invalidField(failure: unknown): AppError | undefined {
  if (!(failure instanceof ApplicationFailure)) return undefined;
  if (failure.type === DELETED_ENDPOINT) return deletedMeanwhile(failure);
  const path = `body.${String(failure.details?.[0] ?? 'webhook')}`;
  return new AppError('validation_failed', `${path}: ${failure.message}`, 400, [
    { path, message: failure.message, code: 'custom' },
  ]);
}

/** The webhook: its configuration, activation and preferences live in the customer's endpoint entity. */
export function createWebhookService({ client, counter, endpoints, config, seal }: ServiceContext) {
  /** The entity holds the secret sealed; the two answers that show it (set, rotated) open it. */
  const withOpenSecret = (state: EndpointState): EndpointState =>
    state.secret ? { ...state, secret: seal.open(state.secret) } : state;

  const entity = (environment: Environment, customerId: string, endpointId?: string) =>
    client.workflow.getHandle(endpointWorkflowId(environment, customerId, endpointId));

  const service = {
    withOpenSecret,
    invalidField,

    /**
     * What a PUT (or a new endpoint) configures: header values sealed here, before anything reaches Temporal (a PUT
     * without headers keeps those there are), and a new secret, sealed, kept only by an endpoint without one.
     */
    configurationOf(webhook: PutWebhook): ConfigureEndpointInput {
      const { headers, ...rest } = webhook;
      const given = headers && Object.keys(headers).length > 0 ? seal.sealHeaders(headers) : null;
      return {
        ...rest,
        ...(headers === undefined ? { keepHeaders: true } : { headers: given }),
        newSecret: seal.seal(generateWebhookSecret()),
      };
    },

    findEndpoint: (environment: Environment, customerId: string) => endpoints.get(environment, customerId),

    /** How many documents wait in the customer's bucket prefix (bucket/counts.ts: one S3 request). */
    async countPending(environment: Environment, customerId: string): Promise<number> {
      const { events, summaries } = await counter.count(environment, customerId);
      return events + summaries;
    },

    /**
     * The first endpoint's configuration, or (with `other`) another's, whose entity starts with its first
     * configuration: a PUT also brings back one whose creation stopped after it was listed.
     */
    async configureWebhook(
      environment: Environment,
      customerId: string,
      webhook: PutWebhook,
      other?: { endpointId: string; customerName: string },
    ): Promise<EndpointState> {
      const args = [service.configurationOf(webhook)] as const;
      try {
        const state = other
          ? await client.workflow.executeUpdateWithStart(configureEndpointUpdate, {
              args: [...args],
              startWorkflowOperation: new WithStartWorkflowOperation<typeof endpointEntity>('endpointEntity', {
                ...otherEntityStart(environment, customerId, other.endpointId, other.customerName, config),
                workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
              }),
            })
          : await entity(environment, customerId).executeUpdate(configureEndpointUpdate, { args: [...args] });
        return withOpenSecret(state);
      } catch (err) {
        // The entity's validator is the last line of defence; its refusal is the caller's bad input.
        rethrowTemporal(err, { refused: invalidField });
      }
    },

    /** Some of the headers: a value sets one, null removes one, the others stay (400 past MAX_HEADERS in all). */
    async patchHeaders(
      environment: Environment,
      customerId: string,
      headers: Record<string, string | null>,
      endpointId?: string,
    ): Promise<EndpointState> {
      try {
        return await entity(environment, customerId, endpointId).executeUpdate(patchHeadersUpdate, {
          args: [{ headers: seal.sealHeaders(headers) }],
        });
      } catch (err) {
        const notFound = `endpoint ${endpointId ?? FIRST_ENDPOINT_ID} (configure it with PUT first)`;
        rethrowTemporal(err, { notFound, refused: invalidField });
      }
    },

    /** A PATCH of the webhook or another endpoint: its headers first, so a reactivation replays with the new ones. */
    async patchWebhook(
      environment: Environment,
      customerId: string,
      { active, headers }: PatchWebhook,
      endpointId?: string,
    ): Promise<EndpointState> {
      let state = headers && (await service.patchHeaders(environment, customerId, headers, endpointId));
      if (active !== undefined) {
        try {
          state = await service.setActive(environment, customerId, active, endpointId);
        } catch (err) {
          rethrowTemporal(err, {
            notFound: `endpoint ${endpointId ?? FIRST_ENDPOINT_ID} (configure it with PUT first)`,
            refused: deletedMeanwhile,
          });
        }
      }
      return state!;
    },

    /** A new secret; the old one signs beside it for SECRET_ROTATION_GRACE. 409 before the webhook has a secret. */
    async rotateSecret(environment: Environment, customerId: string, endpointId?: string): Promise<EndpointState> {
      try {
        const state = await entity(environment, customerId, endpointId).executeUpdate(rotateSecretUpdate, {
          args: [{ newSecret: seal.seal(generateWebhookSecret()), graceMs: config.SECRET_ROTATION_GRACE }],
        });
        return withOpenSecret(state);
      } catch (err) {
        rethrowTemporal(err, {
          refused: (failure) =>
            failure instanceof ApplicationFailure && failure.type === 'NoSecret'
              ? new AppError('no_webhook', 'configure the webhook (PUT /v1/{env}/webhook) before rotating', 409)
              : deletedMeanwhile(failure),
        });
      }
    },

    async setActive(
      environment: Environment,
      customerId: string,
      active: boolean,
      endpointId?: string,
    ): Promise<EndpointState> {
      return entity(environment, customerId, endpointId).executeUpdate(setActiveUpdate, { args: [active] });
    },

    async updatePreferences(environment: Environment, customerId: string, preferences: Preferences) {
      return entity(environment, customerId).executeUpdate(updatePreferencesUpdate, { args: [preferences] });
    },
  };
  return service;
}
