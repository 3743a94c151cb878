import { ApplicationFailure, WithStartWorkflowOperation, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { CreateEventType, EventType, PatchEventType } from '../../domain/event-types';
import { EVENT_TYPE_CATALOG_ID } from '../../domain/ids';
import type { SubmitDocument } from '../../domain/schemas';
import type { eventTypeCatalog } from '../../workflows';
import {
  CATALOG_FULL,
  changeEventTypeUpdate,
  createEventTypeUpdate,
  EVENT_TYPE_EXISTS,
  EVENT_TYPE_UNKNOWN,
} from '../../workflows/messages';
import { AppError } from '../errors';
import { rethrowTemporal } from '../temporal-errors';
import type { ServiceContext } from './context';

const invalid = (path: string, message: string) =>
  new AppError('validation_failed', `${path}: ${message}`, 400, [{ path, message, code: 'custom' }]);

/** A schema compiled on its own (two types' `$id`s never meet), or a 400 naming what is wrong with it. */
function compile(schema: Record<string, unknown>, path: string): ValidateFunction {
  try {
    const ajv = new Ajv2020({ strict: true, allErrors: false });
    addFormats(ajv);
    return ajv.compile(schema);
  } catch (err) {
    throw invalid(path, `not a usable JSON Schema (draft 2020-12): ${(err as Error).message}`);
  }
}

/** The catalog's refusals, as the API answers them. */
const refusal = (path: string) => (failure: unknown) => {
  if (!(failure instanceof ApplicationFailure)) return undefined;
  if (failure.type === EVENT_TYPE_EXISTS) return new AppError('conflict', failure.message, 409);
  if (failure.type === EVENT_TYPE_UNKNOWN) return AppError.notFound(path);
  if (failure.type === CATALOG_FULL) return new AppError('limit_reached', failure.message, 422);
  return undefined;
};

/**
 * The event-type catalog: operators write it through its entity, everyone reads its memo (a describe, no worker).
 * A submit that names a type checks it against a copy at most EVENT_TYPES_CACHE old, read again at once for a name
 * the copy does not know.
 */
export function createEventTypeService({ client, config }: ServiceContext) {
  const catalog = () => client.workflow.getHandle<typeof eventTypeCatalog>(EVENT_TYPE_CATALOG_ID);
  let copy: { readAt: number; types: Map<string, EventType> } | undefined;
  /** Compiled once per version of a type's schema; one entry per type in the catalog at most. */
  const validators = new Map<string, { updatedAt: string; validate: ValidateFunction }>();

  async function read(maxAgeMs: number): Promise<Map<string, EventType>> {
    if (copy && Date.now() - copy.readAt < maxAgeMs) return copy.types;
    const readAt = Date.now();
    let types: EventType[] = [];
    try {
      types = ((await catalog().describe()).memo?.eventTypes as EventType[] | undefined) ?? [];
    } catch (err) {
      // No type was ever created: the catalog's entity starts with the first.
      if (!(err instanceof WorkflowNotFoundError)) rethrowTemporal(err, {});
    }
    copy = { readAt, types: new Map(types.map((type) => [type.name, type])) };
    for (const name of validators.keys()) if (!copy.types.has(name)) validators.delete(name);
    return copy.types;
  }
  const remember = (type: EventType) => {
    copy?.types.set(type.name, type);
    return type;
  };

  function validatorOf(type: EventType & { schema: Record<string, unknown> }): ValidateFunction {
    const known = validators.get(type.name);
    if (known?.updatedAt === type.updatedAt) return known.validate;
    const validate = compile(type.schema, `eventType ${type.name}'s schema`);
    validators.set(type.name, { updatedAt: type.updatedAt, validate });
    return validate;
  }

  return {
    async listEventTypes(includeArchived = false): Promise<EventType[]> {
      const types = [...(await read(0)).values()].filter((type) => includeArchived || !type.archived);
      return types.sort((a, b) => a.name.localeCompare(b.name));
    },

    async getEventType(name: string): Promise<EventType> {
      const type = (await read(0)).get(name);
      if (!type) throw AppError.notFound(`event type ${name}`);
      return type;
    },

    async createEventType(request: CreateEventType): Promise<EventType> {
      if (request.schema) compile(request.schema, 'body.schema');
      try {
        return remember(
          await client.workflow.executeUpdateWithStart(createEventTypeUpdate, {
            args: [request],
            startWorkflowOperation: new WithStartWorkflowOperation<typeof eventTypeCatalog>('eventTypeCatalog', {
              workflowId: EVENT_TYPE_CATALOG_ID,
              taskQueue: config.TASK_QUEUE,
              args: [{ types: [] }],
              memo: { eventTypes: [] },
              workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
            }),
          }),
        );
      } catch (err) {
        rethrowTemporal(err, { refused: refusal(`event type ${request.name}`) });
      }
    },

    async changeEventType(name: string, patch: PatchEventType): Promise<EventType> {
      if (patch.schema) compile(patch.schema, 'body.schema');
      try {
        return remember(await catalog().executeUpdate(changeEventTypeUpdate, { args: [{ name, patch }] }));
      } catch (err) {
        rethrowTemporal(err, { notFound: `event type ${name}`, refused: refusal(`event type ${name}`) });
      }
    },

    /**
     * A document that names an event type: it must be in the catalog, not archived, of the document's kind, and its
     * data must satisfy the type's schema. Each refusal is a 400 naming the field (and the schema's path).
     */
    async checkEventType(document: SubmitDocument): Promise<void> {
      const name = document.eventType;
      if (name === undefined) return;
      const type = (await read(config.EVENT_TYPES_CACHE)).get(name) ?? (await read(0)).get(name);
      if (!type) throw invalid('body.eventType', `unknown event type ${name} (GET /v1/event-types lists them)`);
      if (type.archived) throw invalid('body.eventType', `event type ${name} is archived`);
      if (type.kind !== document.type) {
        throw invalid('body.type', `event type ${name} is a ${type.kind}, not a ${document.type}`);
      }
      if (!type.schema) return;
      const validate = validatorOf({ ...type, schema: type.schema });
      if (validate(document.data)) return;
      const details = (validate.errors ?? []).map((error) => ({
        path: `body.data${error.instancePath.replaceAll('/', '.')}`,
        message: `${error.message ?? 'is invalid'} (schema ${error.schemaPath})`,
        code: 'schema',
      }));
      const first = details[0] ?? { path: 'body.data', message: 'does not satisfy the schema' };
      throw new AppError('validation_failed', `${first.path}: ${first.message}`, 400, details);
    },
  };
}

export type EventTypeService = ReturnType<typeof createEventTypeService>;
