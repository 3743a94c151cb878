import { z } from 'zod';
import {
  CreateEventTypeSchema,
  EventTypeNameSchema,
  ListEventTypesQuerySchema,
  PatchEventTypeSchema,
} from '../../domain/event-types';
import { EventTypeListResponse, EventTypeResponse, response } from '../responses';
import { route } from '../route';

// The event-type catalog: the operator writes it, operators and customers read it (any key).

const named = z.object({ name: EventTypeNameSchema });

export const eventTypeRoutes = [
  route('post', '/v1/event-types', {
    operationId: 'createEventType',
    summary: 'Add an event type to the catalog (documents name it as eventType; endpoints filter on it)',
    access: 'operator',
    tag: 'Event types',
    body: CreateEventTypeSchema,
    responses: { 201: response('Created', EventTypeResponse) },
    errors: [409, 422],
    handler: async ({ body }, _req, res, { service }) => {
      res.status(201).json(await service.createEventType(body));
    },
  }),

  route('get', '/v1/event-types', {
    operationId: 'listEventTypes',
    summary: 'The event-type catalog, by name (archived types only when asked)',
    access: 'anyKey',
    query: ListEventTypesQuerySchema,
    responses: { 200: response('The catalog', EventTypeListResponse) },
    handler: async ({ query }, _req, res, { service }) => {
      res.json({ data: await service.listEventTypes(query.includeArchived) });
    },
  }),

  route('get', '/v1/event-types/{name}', {
    operationId: 'getEventType',
    summary: 'One event type, archived or not',
    access: 'anyKey',
    params: named,
    responses: { 200: response('The event type', EventTypeResponse) },
    errors: [404],
    handler: async ({ params }, _req, res, { service }) => {
      res.json(await service.getEventType(params.name));
    },
  }),

  route('patch', '/v1/event-types/{name}', {
    operationId: 'changeEventType',
    summary: "Change a type's description or schema, or archive it (types are never deleted)",
    access: 'operator',
    tag: 'Event types',
    params: named,
    body: PatchEventTypeSchema,
    responses: { 200: response('The event type as changed', EventTypeResponse) },
    errors: [404],
    handler: async ({ params, body }, _req, res, { service }) => {
      res.json(await service.changeEventType(params.name, body));
    },
  }),
];
