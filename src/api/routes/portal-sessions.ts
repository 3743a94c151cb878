import { z } from 'zod';
import type { Config } from '../../config';
import { CreatePortalSessionSchema, PortalSessionIdSchema, type PortalGrant } from '../../domain/portal-sessions';
import { IdSchema } from '../../domain/schemas';
import { EnvironmentParam, PortalSessionResponse, RedeemedPortalSessionResponse, response } from '../responses';
import { route } from '../route';

// Portal sessions: the operator asks for one per customer and embeds its link; the portal page redeems the link once
// for a session's bearer (src/api/service/portal-sessions.ts says how they hold across processes and restarts).

const customer = z.object({ env: EnvironmentParam, customerId: IdSchema });

/** A grant as the API shows it: the configured look under the session's own. */
function presentGrant(grant: PortalGrant, config: Config) {
  return {
    id: grant.sessionId,
    customerId: grant.customerId,
    environment: grant.environment,
    endpointIds: grant.endpointIds ?? null,
    readOnly: grant.readOnly,
    createdAt: grant.createdAt,
    expiresAt: grant.expiresAt,
    branding: {
      name: grant.branding?.name ?? config.PORTAL_BRAND_NAME,
      logoUrl: grant.branding?.logoUrl ?? config.PORTAL_LOGO_URL ?? null,
      accentColor: grant.branding?.accentColor ?? config.PORTAL_ACCENT_COLOR,
      theme: grant.branding?.theme ?? config.PORTAL_THEME,
    },
  };
}

export const portalSessionRoutes = [
  route('post', '/v1/{env}/customers/{customerId}/portal-sessions', {
    operationId: 'createPortalSession',
    summary: "A portal session for one customer, and the single-use link that opens it (for the platform's iframe)",
    description:
      'Scoped to some endpoints (`endpointIds`) or all, read-only or not, for `expiresInSeconds` (60 to 86,400; an ' +
      "hour by default), in the session's `branding` or the configured one. The link opens the portal once; the " +
      "customer's API keys are never involved, and keep working for the API.",
    access: 'operator',
    params: customer,
    body: CreatePortalSessionSchema,
    responses: { 201: response('The session and its link', PortalSessionResponse) },
    errors: [404],
    handler: async ({ params, body }, _req, res, { service, config }) => {
      const session = await service.createPortalSession(params.env, params.customerId, body);
      res.status(201).json({ ...presentGrant(session, config), url: session.url });
    },
  }),

  route('delete', '/v1/{env}/customers/{customerId}/portal-sessions/{sessionId}', {
    operationId: 'revokePortalSession',
    summary: 'End a portal session: its link and its bearer stop working (within 5 s in every API process)',
    access: 'operator',
    params: customer.extend({ sessionId: PortalSessionIdSchema }),
    responses: { 204: response('Ended (or it had ended already)') },
    errors: [404],
    handler: async ({ params }, _req, res, { service }) => {
      await service.revokePortalSession(params.env, params.customerId, params.sessionId);
      res.status(204).end();
    },
  }),

  route('post', '/v1/portal/redeem', {
    operationId: 'redeemPortalLink',
    tag: 'Portal',
    summary: "The portal page trades its link's token for the session's bearer, once",
    description:
      'Answers 401 for a token that is not a portal link of this service (tampered, or signed with another key) and ' +
      '410 for a link used already, or a session that expired or was revoked.',
    access: 'public',
    body: z.object({ link: z.string().min(1).max(8_192) }).strict(),
    responses: { 200: response('The session', RedeemedPortalSessionResponse) },
    errors: [401, 410],
    handler: async ({ body }, _req, res, { service, config }) => {
      const session = await service.redeemPortalLink(body.link);
      res
        .set('Cache-Control', 'no-store')
        .json({ ...presentGrant(session, config), sessionToken: session.sessionToken });
    },
  }),
];
