import express, { type RequestHandler } from 'express';
import { z } from 'zod';
import type { Config } from '../../config';
import { AesGcmPayloadCodec } from '../../lib/payload-codec';
import { requireOperator } from '../auth';
import { AppError } from '../errors';
import { CodecPayloadsResponse, response } from '../responses';
import { route } from '../route';

const CODEC_MAX_BODY_BYTES = 8 * 1024 * 1024;

// Payloads as the Temporal Web UI and CLI send them to a codec server: bytes in base64.
const JsonPayloadSchema = z.object({
  metadata: z.record(z.string(), z.string().max(1_000)).optional(),
  data: z.string().optional(),
});
// protojson leaves an empty list out: `{}` is zero payloads (an Update without arguments, say).
const CodecBodySchema = z.object({ payloads: z.array(JsonPayloadSchema).max(10_000).default([]) });
type JsonPayload = z.infer<typeof JsonPayloadSchema>;

const fromJson = ({ metadata = {}, data = '' }: JsonPayload) => ({
  metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(data, 'base64'),
});
const toJson = ({ metadata, data }: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(data ?? []).toString('base64'),
});

const served = (config: Config) => config.PAYLOAD_KEYS.length > 0;

/**
 * The Temporal remote codec protocol, so operators read encrypted payloads in the Web UI and the CLI
 * (`--codec-endpoint`): `POST /codec/decode` and `/codec/encode` with the operator key. The Web UI's origins may call
 * it from the browser (CORS); on the local stack (`LOCAL_STACK`) the UI needs no key, since it sends none. Its routes
 * run these ahead of the app's body parser (`beforeBody`): the codec reads larger bodies, and only once it knows the
 * caller.
 */
function corsForUi(config: Config): RequestHandler {
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin !== undefined && config.CODEC_UI_ORIGINS.includes(origin)) {
      res.set({
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': 'content-type, authorization, x-namespace',
        vary: 'origin',
      });
    }
    next();
  };
}

function codecCaller(config: Config): RequestHandler[] {
  const operator = requireOperator(config);
  const checkKey: RequestHandler = (req, res, next) => {
    const origin = req.get('origin');
    const fromUi = origin !== undefined && config.CODEC_UI_ORIGINS.includes(origin);
    if (config.LOCAL_STACK && fromUi && !req.get('authorization')) next();
    else operator(req, res, next);
  };
  // A payload may be as large as Temporal allows one (2 MB, a third more in base64): what the Web UI and the CLI send
  // for a large document's events. Read only once the caller is known to be the operator.
  return [corsForUi(config), checkKey, express.json({ limit: CODEC_MAX_BODY_BYTES })];
}

// One codec per configuration (its keys), made at the first call.
const codecs = new WeakMap<Config, AesGcmPayloadCodec>();
const codecOf = (config: Config) => {
  const codec = codecs.get(config) ?? new AesGcmPayloadCodec(config.PAYLOAD_KEYS);
  codecs.set(config, codec);
  return codec;
};

const title = (direction: string) => `${direction[0].toUpperCase()}${direction.slice(1)}`;

export const codecRoutes = (['encode', 'decode'] as const).flatMap((direction) => [
  route('post', `/codec/${direction}`, {
    operationId: `codec${title(direction)}`,
    tag: 'Codec',
    summary: `Temporal remote codec: ${direction} payloads (the Web UI and \`temporal --codec-endpoint\` call it)`,
    access: 'operator',
    beforeBody: codecCaller,
    enabled: served,
    body: CodecBodySchema,
    responses: { 200: response(`The payloads, ${direction}d`, CodecPayloadsResponse) },
    handler: async ({ body }, _req, res, { config }) => {
      try {
        const payloads = await codecOf(config)[direction](body.payloads.map(fromJson));
        res.json({ payloads: payloads.map(toJson) });
      } catch (err) {
        // A payload encrypted with a key this process does not hold, or tampered with.
        throw new AppError('undecodable', `cannot ${direction}: ${(err as Error).message}`, 400, [
          { path: 'body.payloads', message: (err as Error).message, code: 'custom' },
        ]);
      }
    },
  }),
  // The browser's question before the Web UI posts to the codec from another origin.
  route('options', `/codec/${direction}`, {
    operationId: `codec${title(direction)}Preflight`,
    tag: 'Codec',
    summary: 'CORS preflight: the methods and headers allowed, for an origin in CODEC_UI_ORIGINS',
    access: 'public',
    // The preflight carries no key: only the CORS headers.
    beforeBody: (config) => [corsForUi(config)],
    enabled: served,
    responses: { 204: { description: 'No content (the CORS headers, for a Web UI origin)' } },
    handler: (_input, _req, res) => {
      res.status(204).end();
    },
  }),
]);
