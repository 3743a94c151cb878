import { ApplicationFailure, allHandlersFinished, condition, setHandler, upsertMemo } from '@temporalio/workflow';
import type { PortalGrant } from '../domain/portal-sessions';
import {
  PORTAL_LINK_USED,
  PORTAL_SESSION_EXPIRED,
  PORTAL_SESSION_REVOKED,
  redeemPortalLinkUpdate,
  revokePortalSessionUpdate,
} from './messages';

/** How a session ended: its expiry came, or the operator revoked it. */
export interface PortalSessionEnd {
  redeemedAt?: string;
  revokedAt?: string;
}

/**
 * One portal session, from the operator's request to its expiry (a day at most): the single-use record of its link,
 * which the API's Updates make atomic across API processes, and whether it still holds (it runs until it expires or
 * is revoked, so the API asks only whether it is running, a read with no worker). Its history is a handful of events.
 * Its memo says when it was used and revoked, for the operator.
 */
export async function portalSession(grant: PortalGrant): Promise<PortalSessionEnd> {
  const ended: PortalSessionEnd = {};
  const expiresAt = Date.parse(grant.expiresAt);
  const refuse = (message: string, type: string) => {
    throw ApplicationFailure.nonRetryable(message, type);
  };

  setHandler(
    redeemPortalLinkUpdate,
    () => {
      ended.redeemedAt = new Date().toISOString();
      upsertMemo({ redeemedAt: ended.redeemedAt });
      return grant;
    },
    {
      validator: () => {
        if (ended.revokedAt) refuse('this portal session was revoked', PORTAL_SESSION_REVOKED);
        if (ended.redeemedAt) refuse('this portal link was used already: ask for a new one', PORTAL_LINK_USED);
        if (Date.now() >= expiresAt) refuse('this portal link has expired', PORTAL_SESSION_EXPIRED);
      },
    },
  );
  setHandler(revokePortalSessionUpdate, () => {
    ended.revokedAt ??= new Date().toISOString();
    upsertMemo({ revokedAt: ended.revokedAt });
    return { revokedAt: ended.revokedAt };
  });

  await condition(() => ended.revokedAt !== undefined, Math.max(0, expiresAt - Date.now()));
  await condition(allHandlersFinished);
  return ended;
}
