import { ApplicationFailure } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { Dispatcher } from 'undici';
import type { Config } from '../config';
import type { SecretSeal } from '../lib/secret-seal';
import type { Metrics } from '../lib/metrics';
import { isPrivateUrl } from '../lib/private-address';
import { endpointShare, withPlace, type SendGuards } from '../lib/send-guards';
import type { EndpointState, Environment } from '../domain/schemas';
import type { PendingCounter } from '../bucket/counts';
import { queueOf } from '../domain/ids';
import { postSigned, type EndpointReader } from './deliver';
import type { PendingSummary } from './pending';

export interface EndpointSettings {
  defaultRetrySchedule: string;
  maxRunEvents: number;
  replayConcurrency: number;
  replayPageSize: number;
  notificationWindowMs: number;
  reminderBeforeExpiryMs: number;
  /** OPERATOR_WEBHOOK_URL is set. Absent in runs recorded before operator events: those send none. */
  operatorEvents?: boolean;
  /** PROBE_MIN_INTERVAL. Absent in runs recorded before the floor: those probe on their schedule alone. */
  probeMinIntervalMs?: number;
  /** ENDPOINT_RUN_MAX_SLOTS. Absent in runs recorded before the bound: those hand out slots without one. */
  maxSlotsPerRun?: number;
}

export type SealSecretsInput = Pick<EndpointState, 'secret' | 'previousSecret'>;

interface PendingNotification extends PendingSummary {
  type: 'documents.pending';
  environment: Environment;
  reminder: boolean;
}

export interface EndpointEmailInput {
  kind: 'suspended' | 'recovered';
  environment: Environment;
  customerId: string;
  /** Absent for the customer's first endpoint. */
  endpointId?: string;
  /** For a suspension email: the suspension it is about; none is sent once that suspension has ended. */
  suspendedAt?: string;
  /** When the entity decided to send it: with the kind, what names its workflow. */
  at: string;
}

function suspensionEmail(endpoint: EndpointState, pending: number, config: Config) {
  const env = endpoint.environment;
  return {
    subject: `[${env}] Webhook suspended for ${endpoint.customerName}: ${endpoint.url}`,
    text: [
      `Your ${env} webhook endpoint has been suspended.`,
      '',
      `Customer:      ${endpoint.customerName} (${endpoint.customerId})`,
      `Environment:   ${env}`,
      `URL:           ${endpoint.url}`,
      `Suspended at:  ${endpoint.suspension?.at ?? 'earlier (it has been reactivated since)'}`,
      `Reason:        ${endpoint.suspension?.reason}`,
      `Last error:    ${endpoint.lastError ?? 'none recorded'}`,
      `Pending:       ${pending} document(s) are kept for you and can be pulled through the API.`,
      '',
      'While suspended, new documents are stored instead of sent. We keep probing the endpoint with the oldest',
      'pending document on its retry schedule; when it answers 2xx it is reactivated and everything is redelivered.',
      '',
      'To reactivate it yourself once it is fixed:',
      `  - open ${config.publicUrl}/webhook and switch "Active" on, or`,
      `  - curl -X PATCH ${config.publicUrl}/v1/${env}/webhook -H "authorization: Bearer <your ${env} key>" \\`,
      `      -H 'content-type: application/json' -d '{"active":true}'`,
    ].join('\n'),
  };
}

function recoveryEmail(endpoint: EndpointState, pending: number) {
  return {
    subject: `[${endpoint.environment}] Webhook recovered for ${endpoint.customerName}: ${endpoint.url}`,
    text: [
      `Your ${endpoint.environment} webhook endpoint ${endpoint.url} answered again and has been reactivated.`,
      `${pending} pending document(s) are being redelivered, oldest first.`,
    ].join('\n'),
  };
}

export function createEndpointActivities(deps: {
  counter: PendingCounter;
  http: Dispatcher;
  endpoints: EndpointReader;
  mailer: Transporter;
  config: Config;
  metrics: Metrics;
  guards: SendGuards;
  seal: SecretSeal;
}) {
  const { counter, http, endpoints, mailer, config, metrics, guards, seal } = deps;

  return {
    /** Seals secrets an entity still holds in the clear (it was made before sealing): those it holds from then on. */
    async sealSecrets(input: SealSecretsInput): Promise<SealSecretsInput> {
      return {
        secret: input.secret && seal.seal(input.secret),
        previousSecret: input.previousSecret && {
          ...input.previousSecret,
          secret: seal.seal(input.previousSecret.secret),
        },
      };
    },

    /** Seals header values an entity still holds in the clear (it was made before sealing), by name. */
    async sealHeaders(headers: Record<string, string>): Promise<Record<string, string>> {
      return seal.sealHeaders(headers);
    },

    /** Configuration the entity workflow needs; read per run so a redeployed config applies. */
    async endpointSettings(environment: Environment): Promise<EndpointSettings> {
      return {
        defaultRetrySchedule: config.retrySchedules[environment],
        maxRunEvents: config.ENDPOINT_RUN_MAX_EVENTS,
        replayConcurrency: config.REPLAY_CONCURRENCY,
        replayPageSize: config.REPLAY_PAGE_SIZE,
        notificationWindowMs: config.NOTIFICATION_WINDOW,
        reminderBeforeExpiryMs: config.NOTIFICATION_REMINDER,
        operatorEvents: Boolean(config.OPERATOR_WEBHOOK_URL),
        probeMinIntervalMs: config.PROBE_MIN_INTERVAL,
        maxSlotsPerRun: config.ENDPOINT_RUN_MAX_SLOTS,
      };
    },

    /** Written from the endpoint as it is when sent; 'skipped' when there is nobody to tell or nothing to say. */
    async sendEndpointEmail(input: EndpointEmailInput): Promise<'sent' | 'skipped'> {
      const endpoint = await endpoints.get(input.environment, input.customerId, input.endpointId);
      const to = endpoint?.suspensionEmail;
      // Deleted since: the customer is told nothing more about it.
      if (!endpoint || !to || endpoint.status === 'deleted') return 'skipped';
      // Recovered (or suspended anew) since: the customer never needs to hear about that suspension.
      if (input.kind === 'suspended' && endpoint.suspension?.at !== input.suspendedAt) return 'skipped';
      const { events, summaries } = await counter.count(input.environment, input.customerId, input.endpointId);
      const pending = events + summaries;
      const { subject, text } =
        input.kind === 'suspended' ? suspensionEmail(endpoint, pending, config) : recoveryEmail(endpoint, pending);
      await mailer.sendMail({ from: config.MAIL_FROM, to, subject, text });
      return 'sent';
    },

    /**
     * One signed POST to the notification URL with the summary of what is in the bucket; failures throw so Temporal
     * retries a few times, then gives up. `busy`: the endpoint's share of requests in flight is full, nothing sent.
     */
    async notifyPending(input: {
      environment: Environment;
      customerId: string;
      endpointId?: string;
      notificationId: string;
      reminder: boolean;
      summary: PendingSummary;
    }): Promise<'sent' | 'no-url' | 'opted-out' | 'nothing-pending' | 'busy' | 'deleted'> {
      const endpoint = await endpoints.get(input.environment, input.customerId, input.endpointId);
      // Queued before the endpoint was deleted: nothing is sent for it any more.
      if (endpoint?.status === 'deleted') return 'deleted';
      if (!endpoint?.notificationUrl || !endpoint.secret) return 'no-url';
      if (!config.ALLOW_PRIVATE_URLS && isPrivateUrl(endpoint.notificationUrl)) {
        throw ApplicationFailure.nonRetryable('the notification URL points at a private address', 'PrivateAddress');
      }
      if (!endpoint.preferences.pendingNotifications) return 'opted-out';
      if (input.summary.documentIds.length === 0) return 'nothing-pending';
      const notification: PendingNotification = {
        type: 'documents.pending',
        environment: input.environment,
        ...input.summary,
        reminder: input.reminder,
      };
      const share = {
        ...endpointShare(input.environment, queueOf(input.customerId, input.endpointId), endpoint.maxInFlight, config),
        kind: 'notification' as const,
      };
      const now = new Date();
      const response = await withPlace(guards, share, () =>
        postSigned(http, config, {
          url: endpoint.notificationUrl!,
          secrets: seal.signingSecrets(endpoint, now),
          id: input.notificationId,
          body: JSON.stringify(notification),
          now,
        }),
      );
      if (response === 'busy') return 'busy';
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw ApplicationFailure.retryable(
          `notification URL answered HTTP ${response.statusCode}`,
          'NotificationFailed',
        );
      }
      metrics.notifications.inc({ environment: input.environment, outcome: 'sent' });
      return 'sent';
    },
  };
}
