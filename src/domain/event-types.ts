import { z } from 'zod';
import { DocumentTypeSchema, EventTypeNameSchema } from './schemas';

export { EventTypeNameSchema };

// The operator's catalog of event types (`shipment.delivered`, `invoice.summary`): what a document may name as its
// `eventType`, what endpoints subscribe to, and, when a type has a schema, what its `data` must satisfy.

/** The largest schema a type may carry: with the catalog's 200 types (workflows/event-types.ts), one memo < 1 MB. */
const MAX_SCHEMA_BYTES = 4 * 1024;

/** A JSON Schema (draft 2020-12) as an object; whether it compiles is checked where it is submitted. */
const JsonSchemaSchema = z
  .record(z.string(), z.unknown())
  .refine(
    (schema) => Buffer.byteLength(JSON.stringify(schema)) <= MAX_SCHEMA_BYTES,
    `at most ${MAX_SCHEMA_BYTES} bytes as JSON`,
  )
  .meta({ description: 'A JSON Schema (draft 2020-12) that the data of documents of this type must satisfy' });

export const CreateEventTypeSchema = z.strictObject({
  name: EventTypeNameSchema,
  kind: DocumentTypeSchema,
  description: z.string().max(1000).optional(),
  schema: JsonSchemaSchema.optional(),
});
export type CreateEventType = z.infer<typeof CreateEventTypeSchema>;

/** What an operator may change: `archived` retires a type (new documents may no longer name it); `schema: null` drops it. */
export const PatchEventTypeSchema = z
  .strictObject({
    description: z.string().max(1000).optional(),
    schema: JsonSchemaSchema.nullable().optional(),
    archived: z.boolean().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'name at least one of description, schema, archived');
export type PatchEventType = z.infer<typeof PatchEventTypeSchema>;

export interface EventType {
  name: string;
  kind: z.infer<typeof DocumentTypeSchema>;
  description?: string;
  schema?: Record<string, unknown>;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

export const ListEventTypesQuerySchema = z.object({
  includeArchived: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .meta({ description: 'Archived types too (by default only those documents may still name)' }),
});
