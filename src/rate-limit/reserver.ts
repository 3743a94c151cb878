import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { endpointWorkflowId } from '../domain/ids';
import type { Environment } from '../domain/schemas';
import { reserveSlotUpdate, SLOTS_ROLL_OVER } from '../workflows/messages';

/** Hands out a rate-limited endpoint's send slots (its entity workflow does, one at a time). */
export interface SlotReserver {
  /**
   * The moment (epoch ms) reserved for one request to the endpoint, not before `notBefore`; undefined when the entity
   * hands out no more in its current run (it is about to continue as new): ask again in a moment.
   */
  reserve(
    environment: Environment,
    customerId: string,
    notBefore: number,
    endpointId?: string,
  ): Promise<number | undefined>;
}

const failureType = (err: unknown) => (err instanceof ApplicationFailure ? err.type : undefined);

/** Slots of a rate-limited endpoint, reserved by an Update on its entity (which serialises them for every worker). */
export function createSlotReserver(client: Client): SlotReserver {
  return {
    async reserve(environment, customerId, notBefore, endpointId) {
      try {
        const at = await client.workflow
          .getHandle(endpointWorkflowId(environment, customerId, endpointId))
          .executeUpdate(reserveSlotUpdate, { args: [{ notBefore: new Date(notBefore).toISOString() }] });
        return Date.parse(at);
      } catch (err) {
        // Refused by its validator (nothing enters the history): the run has handed out its share of slots.
        if (err instanceof WorkflowUpdateFailedError && failureType(err.cause) === SLOTS_ROLL_OVER) return undefined;
        throw err;
      }
    },
  };
}
