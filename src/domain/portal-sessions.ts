import { z } from 'zod';
import { EndpointIdSchema, type Environment } from './schemas';

// A portal session: what a platform's operator grants one customer's browser, by a link it embeds in its own page.
// The grant is the session's workflow's input (src/workflows/portal-session.ts); the link and the session's bearer
// are signed by the API (src/lib/portal-tokens.ts).

/** Shortest and longest life of a session: minutes to a day, as the platform asks. */
const PORTAL_SESSION_MIN_SECONDS = 60;
const PORTAL_SESSION_MAX_SECONDS = 86_400;

/** `#rrggbb`: the only colour syntax the page's stylesheet takes, so a value cannot inject CSS. */
export const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;
const ColourSchema = z.string().regex(HEX_COLOUR, 'must be a colour as #rrggbb');

/** How the portal looks: from config, overridden per session by the platform. */
const BrandingSchema = z
  .object({
    name: z.string().trim().min(1).max(80).optional(),
    /** An https image (the page's CSP allows that origin's images only). */
    logoUrl: z
      .string()
      .max(2048)
      .url()
      .refine((url) => url.startsWith('https://'), 'must be an https URL')
      .optional(),
    accentColor: ColourSchema.optional(),
    /** `auto` follows the viewer's system setting. */
    theme: z.enum(['light', 'dark', 'auto']).optional(),
  })
  .strict();
type Branding = z.infer<typeof BrandingSchema>;

export const CreatePortalSessionSchema = z
  .object({
    /** The endpoints the session may see and act on; absent, all of the customer's. */
    endpointIds: z.array(EndpointIdSchema).min(1).max(20).optional(),
    readOnly: z.boolean().default(false),
    expiresInSeconds: z.number().int().min(PORTAL_SESSION_MIN_SECONDS).max(PORTAL_SESSION_MAX_SECONDS).default(3_600),
    branding: BrandingSchema.optional(),
  })
  .strict();
export type CreatePortalSession = z.infer<typeof CreatePortalSessionSchema>;

/** `ps_` and 24 base62 characters, random (src/lib/portal-tokens.ts). */
export const PortalSessionIdSchema = z.string().regex(/^ps_[A-Za-z0-9]{24}$/, 'must be a portal session id (ps_…)');

/** What a session may do, fixed when the operator asks for it. */
export interface PortalGrant {
  sessionId: string;
  customerId: string;
  environment: Environment;
  endpointIds?: string[];
  readOnly: boolean;
  createdAt: string;
  expiresAt: string;
  branding?: Branding;
}

/** Whether a session that names `endpointIds` (or none: all) covers `endpointId`. */
export const coversEndpoint = (grant: Pick<PortalGrant, 'endpointIds'>, endpointId: string): boolean =>
  !grant.endpointIds || grant.endpointIds.includes(endpointId);
