import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { otherEndpointIds } from '../../domain/endpoints';
import { FIRST_ENDPOINT_ID, portalSessionWorkflowId } from '../../domain/ids';
import type { CreatePortalSession, PortalGrant } from '../../domain/portal-sessions';
import type { Environment } from '../../domain/schemas';
import {
  newPortalSessionId,
  portalSigningKeys,
  PortalTokenError,
  signPortalToken,
  verifyPortalToken,
} from '../../lib/portal-tokens';
import {
  PORTAL_LINK_USED,
  PORTAL_SESSION_EXPIRED,
  PORTAL_SESSION_REVOKED,
  redeemPortalLinkUpdate,
  revokePortalSessionUpdate,
} from '../../workflows/messages';
import type { portalSession } from '../../workflows/portal-session';
import { logger } from '../../lib/logger';
import { AppError } from '../errors';
import { rethrowTemporal } from '../temporal-errors';
import type { ServiceContext } from './context';

/** Who a portal session's bearer is, as the customer routes see it. */
export interface PortalSessionAuth {
  sessionId: string;
  customerId: string;
  environment: Environment;
  readOnly: boolean;
  /** The endpoints it covers; absent, all of the customer's. */
  endpointIds?: string[];
}

/**
 * How long an API process trusts that a session it saw running still runs: a revoke takes effect within this long
 * everywhere (at once in the process that revoked it), and a busy portal costs one read of its workflow per this.
 */
const SESSION_CHECK_MS = 5_000;
/** Sessions whose check one process keeps (a map entry each, about 100 bytes). */
const SESSION_CHECKS_KEPT = 10_000;
/** How long a link opens its session: the platform asks for one each time it shows the portal. */
const LINK_MS = 10 * 60_000;

/** A refusal of a link or a session: 401 for what is no token of ours, 410 for one that was but is used or over. */
const refusal = (reason: 'invalid' | 'used' | 'revoked' | 'expired', message: string) =>
  reason === 'invalid'
    ? new AppError('invalid_portal_token', message, 401)
    : new AppError(`portal_${reason}`, message, 410);

const ENDED_BY_FAILURE: Record<string, 'used' | 'revoked' | 'expired'> = {
  [PORTAL_LINK_USED]: 'used',
  [PORTAL_SESSION_REVOKED]: 'revoked',
  [PORTAL_SESSION_EXPIRED]: 'expired',
};

/**
 * Portal sessions: the operator asks for one per customer (scoped, read-only, for minutes to a day) and embeds its
 * link; the portal page trades the link, once, for a session's bearer. Link and bearer are signed with one key every
 * API process has (src/lib/portal-tokens.ts); the once and the revoke are the session's workflow's.
 */
export function createPortalSessionService({ client, endpoints, config, clock }: ServiceContext) {
  let signingKeys: Buffer[] | undefined;
  const keys = () => (signingKeys ??= portalSigningKeys(config.PORTAL_SIGNING_KEY, config.SECRET_KEYS));
  const handle = (environment: Environment, customerId: string, sessionId: string) =>
    client.workflow.getHandle<typeof portalSession>(portalSessionWorkflowId(environment, customerId, sessionId));
  const checks = new Map<string, { running: boolean; until: number }>();

  // The workflows' clock (the server's), which a session's expiry is on.
  async function verify(kind: 'link' | 'session', token: string) {
    try {
      return verifyPortalToken(keys(), kind, token, await clock());
    } catch (err) {
      if (!(err instanceof PortalTokenError)) throw err;
      throw refusal(err.reason, err.message);
    }
  }

  /** Whether the session's workflow runs (neither expired nor revoked), read at most once per SESSION_CHECK_MS. */
  async function running(environment: Environment, customerId: string, sessionId: string): Promise<boolean> {
    const id = portalSessionWorkflowId(environment, customerId, sessionId);
    const now = Date.now();
    const known = checks.get(id);
    if (known && known.until > now) return known.running;
    let isRunning: boolean;
    try {
      isRunning = (await handle(environment, customerId, sessionId).describe()).status.name === 'RUNNING';
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) rethrowTemporal(err, {});
      isRunning = false;
    }
    remember(id, { running: isRunning, until: now + SESSION_CHECK_MS });
    return isRunning;
  }

  /** A check kept, the oldest dropped past SESSION_CHECKS_KEPT. */
  function remember(id: string, check: { running: boolean; until: number }) {
    checks.delete(id);
    if (checks.size >= SESSION_CHECKS_KEPT) checks.delete(checks.keys().next().value!);
    checks.set(id, check);
  }

  return {
    /** A session and its link; 404 for an unknown customer, 400 naming an endpoint the customer does not have. */
    async createPortalSession(environment: Environment, customerId: string, request: CreatePortalSession) {
      const record = await endpoints.get(environment, customerId);
      if (!record) throw AppError.notFound(`customer ${customerId}`);
      const known = new Set([FIRST_ENDPOINT_ID, ...otherEndpointIds(record)]);
      const unknown = (request.endpointIds ?? []).findIndex((id) => !known.has(id));
      if (unknown >= 0) {
        const path = `body.endpointIds.${unknown}`;
        const message = `is not one of this customer's endpoints`;
        throw new AppError('validation_failed', `${path}: ${message}`, 400, [{ path, message, code: 'custom' }]);
      }
      const now = await clock();
      const grant: PortalGrant = {
        sessionId: newPortalSessionId(),
        customerId,
        environment,
        ...(request.endpointIds ? { endpointIds: [...new Set(request.endpointIds)] } : {}),
        readOnly: request.readOnly,
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + request.expiresInSeconds * 1_000).toISOString(),
        ...(request.branding ? { branding: request.branding } : {}),
      };
      await client.workflow.start<typeof portalSession>('portalSession', {
        workflowId: portalSessionWorkflowId(environment, customerId, grant.sessionId),
        taskQueue: config.TASK_QUEUE,
        args: [grant],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      // The link is for showing the portal now: a link left in a page or a history opens nothing after LINK_MS.
      const link = signPortalToken(keys()[0], 'link', {
        sid: grant.sessionId,
        cid: customerId,
        env: environment,
        exp: Math.min(Date.parse(grant.expiresAt), now + LINK_MS),
      });
      logger.info({ portalSession: grant.sessionId, customerId, environment }, 'portal session created');
      // In the fragment: a browser never sends it to a server, so no log, proxy or Referer holds it.
      return { ...grant, url: `${config.publicUrl}/portal#link=${link}` };
    },

    /** The link traded for the session's bearer, once: 401 for no link of ours, 410 for a used or ended one. */
    async redeemPortalLink(link: string) {
      const payload = await verify('link', link);
      let grant: PortalGrant;
      try {
        grant = await handle(payload.env, payload.cid, payload.sid).executeUpdate(redeemPortalLinkUpdate);
      } catch (err) {
        // Its workflow ended (expired or revoked) before the link's own expiry says so, or long enough ago that
        // Temporal forgot it.
        if (err instanceof WorkflowNotFoundError) {
          throw refusal('expired', 'this portal session has ended (expired or revoked): ask for a new link');
        }
        rethrowTemporal(err, {
          refused: (failure) => {
            const reason = failure instanceof ApplicationFailure ? ENDED_BY_FAILURE[failure.type ?? ''] : undefined;
            return reason && refusal(reason, (failure as Error).message);
          },
        });
      }
      logger.info(
        { portalSession: grant.sessionId, customerId: grant.customerId, environment: grant.environment },
        'portal link redeemed',
      );
      const session = signPortalToken(keys()[0], 'session', {
        sid: grant.sessionId,
        cid: grant.customerId,
        env: grant.environment,
        exp: Date.parse(grant.expiresAt),
        ro: grant.readOnly,
        ...(grant.endpointIds ? { eps: grant.endpointIds } : {}),
      });
      return { ...grant, sessionToken: session };
    },

    /** Ends a session: its link and its bearer stop working. 404 for a session this customer never had. */
    async revokePortalSession(environment: Environment, customerId: string, sessionId: string) {
      const session = handle(environment, customerId, sessionId);
      let running: boolean;
      try {
        running = (await session.describe()).status.name === 'RUNNING';
      } catch (err) {
        rethrowTemporal(err, { notFound: `portal session ${sessionId}` });
      }
      try {
        if (running) await session.executeUpdate(revokePortalSessionUpdate);
      } catch (err) {
        // It ended (its expiry came) between the two calls: ended already, as asked.
        if (!(err instanceof WorkflowNotFoundError)) rethrowTemporal(err, {});
      }
      remember(portalSessionWorkflowId(environment, customerId, sessionId), { running: false, until: Infinity });
      logger.info({ portalSession: sessionId, customerId, environment }, 'portal session revoked');
    },

    /** Who a session's bearer is: 401 for no bearer of ours, 410 once it expired or was revoked. */
    async portalSessionOf(bearer: string): Promise<PortalSessionAuth> {
      const payload = await verify('session', bearer);
      if (!(await running(payload.env, payload.cid, payload.sid))) {
        throw refusal('revoked', 'this portal session has ended: open the portal again from the platform');
      }
      return {
        sessionId: payload.sid,
        customerId: payload.cid,
        environment: payload.env,
        readOnly: payload.ro ?? true,
        ...(payload.eps ? { endpointIds: payload.eps } : {}),
      };
    },
  };
}
