import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { EventType } from '../domain/event-types';
import {
  CATALOG_FULL,
  changeEventTypeUpdate,
  createEventTypeUpdate,
  EVENT_TYPE_EXISTS,
  EVENT_TYPE_UNKNOWN,
} from './messages';

/** The most types the catalog holds (each schema at most 4 KB: the whole catalog is one memo, under 1 MB). */
export const MAX_EVENT_TYPES = 200;
/** The catalog is a memo the API reads without a worker: every change writes all of it, so runs stay short. */
const CATALOG_RUN_MAX_EVENTS = 500;
const CATALOG_RUN_MAX_BYTES = 4 * 1024 * 1024;

export interface EventTypeCatalogInput {
  types: EventType[];
}

/**
 * The operator's catalog of event types: one entity for the whole platform (workflow id `event-types`), started by
 * the first type created. Types are never deleted, only archived: documents and endpoint filters may still name them.
 * The API validates a type's schema before asking (workflows compile no JSON Schema); the entity keeps names unique
 * and the catalog within MAX_EVENT_TYPES.
 */
export async function eventTypeCatalog(input: EventTypeCatalogInput): Promise<void> {
  const types = new Map(input.types.map((type) => [type.name, type]));
  const memo = () => ({ eventTypes: [...types.values()] });
  const known = (name: string) => {
    const type = types.get(name);
    if (!type) throw ApplicationFailure.nonRetryable(`event type ${name} not found`, EVENT_TYPE_UNKNOWN);
    return type;
  };

  setHandler(
    createEventTypeUpdate,
    (request) => {
      const at = new Date().toISOString();
      const type: EventType = { ...request, archived: false, createdAt: at, updatedAt: at };
      types.set(type.name, type);
      upsertMemo(memo());
      return type;
    },
    {
      validator: ({ name }) => {
        if (types.has(name))
          throw ApplicationFailure.nonRetryable(`event type ${name} already exists`, EVENT_TYPE_EXISTS);
        if (types.size >= MAX_EVENT_TYPES) {
          throw ApplicationFailure.nonRetryable(`the catalog holds ${MAX_EVENT_TYPES} types at most`, CATALOG_FULL);
        }
      },
    },
  );

  setHandler(
    changeEventTypeUpdate,
    ({ name, patch }) => {
      const type = { ...known(name), updatedAt: new Date().toISOString() };
      if (patch.description !== undefined) type.description = patch.description;
      if (patch.schema === null) delete type.schema;
      else if (patch.schema !== undefined) type.schema = patch.schema;
      if (patch.archived !== undefined) type.archived = patch.archived;
      types.set(name, type);
      upsertMemo(memo());
      return type;
    },
    { validator: ({ name }) => void known(name) },
  );

  const long = () => {
    const info = workflowInfo();
    return (
      info.continueAsNewSuggested ||
      info.historyLength > CATALOG_RUN_MAX_EVENTS ||
      info.historySize > CATALOG_RUN_MAX_BYTES
    );
  };
  await condition(() => long() && allHandlersFinished());
  // The memo goes with the new run, so the API never reads an empty catalog between the runs.
  await makeContinueAsNewFunc<typeof eventTypeCatalog>({ memo: memo() })({ types: [...types.values()] });
}
