import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { Config } from '../config';
import { endpointWorkflowId } from '../domain/ids';
import type { Environment } from '../domain/schemas';
import { otherEntityStart } from '../lib/entity-start';
import type { endpointEntity } from '../workflows';
import { endpointDeletedUpdate, endpointSettledUpdate } from '../workflows/messages';

interface OtherEndpoint {
  environment: Environment;
  customerId: string;
  endpointId: string;
}

/**
 * The first endpoint's entity and another's telling each other about a deletion (workflows cannot run Updates
 * themselves). Each Update's id is tied to the deletion, so a retried activity finds the first try's answer.
 */
export function createEndpointListActivities({ client, config }: { client: Client; config: Config }) {
  /** Given up when the activity is cancelled (the worker shutting down): the task it waits for may need this worker. */
  const abortable = <T>(update: () => Promise<T>) =>
    client.withAbortSignal(Context.current().cancellationSignal, update);

  return {
    /**
     * Tells a deleted endpoint's entity, and returns once its status says so (the first endpoint's deleteEndpoint
     * answers after this). One listed without an entity (its creation stopped half-way, before creation was one step)
     * gets one, deleted from its first task: it still owns whatever its route took into its bucket prefix.
     */
    async tellEndpointDeleted(input: OtherEndpoint & { customerName: string; deletedAt: string }): Promise<void> {
      const { environment, customerId, endpointId, customerName, deletedAt } = input;
      await abortable(() =>
        client.workflow.executeUpdateWithStart(endpointDeletedUpdate, {
          args: [{ deletedAt }],
          updateId: `deleted/${deletedAt}`,
          startWorkflowOperation: new WithStartWorkflowOperation<typeof endpointEntity>('endpointEntity', {
            ...otherEntityStart(environment, customerId, endpointId, customerName, config),
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          }),
        }),
      );
    },

    /** Tells the first endpoint's entity that a deleted endpoint's documents are settled (it is about to end). */
    async reportEndpointSettled({ environment, customerId, endpointId }: OtherEndpoint): Promise<void> {
      try {
        await abortable(() =>
          client.workflow
            .getHandle(endpointWorkflowId(environment, customerId))
            .executeUpdate(endpointSettledUpdate, { args: [{ id: endpointId }], updateId: `settled/${endpointId}` }),
        );
      } catch (err) {
        // No first endpoint (the customer is gone): nobody lists it.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    },
  };
}
