import type { S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { Dispatcher } from 'undici';
import type { Config } from '../config';
import { countPending, summarizePending } from '../lib/pending-store';
import { isPrivateUrl } from '../lib/private-address';
import type { EndpointState, Environment } from '../domain/schemas';
import { postSigned, type EndpointReader } from './deliver';

export interface EndpointSettings {
  defaultRetrySchedule: string;
  replayConcurrency: number;
  replayPageSize: number;
  notificationWindowMs: number;
  reminderBeforeExpiryMs: number;
}

export interface PendingNotification {
  type: 'documents.pending';
  environment: Environment;
  pending: { events: number; summaries: number };
  documentIds: string[];
  oldestExpiresAt: string | null;
  reminder: boolean;
}

export interface EndpointEmailInput {
  kind: 'suspended' | 'recovered';
  endpoint: EndpointState;
}

function suspensionEmail({ endpoint }: EndpointEmailInput, pending: number, config: Config) {
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

function recoveryEmail({ endpoint }: EndpointEmailInput, pending: number) {
  return {
    subject: `[${endpoint.environment}] Webhook recovered for ${endpoint.customerName}: ${endpoint.url}`,
    text: [
      `Your ${endpoint.environment} webhook endpoint ${endpoint.url} answered again and has been reactivated.`,
      `${pending} pending document(s) are being redelivered, oldest first.`,
    ].join('\n'),
  };
}

/** A notification lists at most this many ids; the counts cover everything pending. */
const NOTIFICATION_MAX_IDS = 1000;

export function createEndpointActivities(deps: {
  s3: S3Client;
  http: Dispatcher;
  endpoints: EndpointReader;
  mailer: Transporter;
  config: Config;
}) {
  const { s3, http, endpoints, mailer, config } = deps;
  const summarize = (environment: Environment, customerId: string) =>
    summarizePending(s3, { bucket: config.buckets[environment], customerId, maxIds: NOTIFICATION_MAX_IDS });

  return {
    /** Configuration the entity workflow needs; read per run so a redeployed config applies. */
    async endpointSettings(environment: Environment): Promise<EndpointSettings> {
      return {
        defaultRetrySchedule: config.retrySchedules[environment],
        replayConcurrency: config.REPLAY_CONCURRENCY,
        replayPageSize: config.REPLAY_PAGE_SIZE,
        notificationWindowMs: config.NOTIFICATION_WINDOW,
        reminderBeforeExpiryMs: config.NOTIFICATION_REMINDER,
      };
    },

    async sendEndpointEmail(input: EndpointEmailInput): Promise<void> {
      const to = input.endpoint.suspensionEmail;
      if (!to) return;
      const { environment, customerId } = input.endpoint;
      const pending = await countPending(s3, { bucket: config.buckets[environment], customerId });
      const { subject, text } =
        input.kind === 'suspended' ? suspensionEmail(input, pending, config) : recoveryEmail(input, pending);
      await mailer.sendMail({ from: config.MAIL_FROM, to, subject, text });
    },

    /**
     * One signed POST to the notification URL, describing what is in the bucket now; failures throw so Temporal
     * retries a few times, then gives up.
     */
    async notifyPending(input: {
      environment: Environment;
      customerId: string;
      notificationId: string;
      reminder: boolean;
    }): Promise<'sent' | 'no-url' | 'opted-out' | 'nothing-pending'> {
      const endpoint = await endpoints.get(input.environment, input.customerId);
      if (!endpoint?.notificationUrl || !endpoint.secret) return 'no-url';
      if (!config.ALLOW_PRIVATE_URLS && isPrivateUrl(endpoint.notificationUrl)) {
        throw ApplicationFailure.nonRetryable('the notification URL points at a private address', 'PrivateAddress');
      }
      if (!endpoint.preferences.pendingNotifications) return 'opted-out';
      const summary = await summarize(input.environment, input.customerId);
      if (summary.documentIds.length === 0) return 'nothing-pending';
      const notification: PendingNotification = {
        type: 'documents.pending',
        environment: input.environment,
        ...summary,
        reminder: input.reminder,
      };
      const response = await postSigned(http, config, {
        url: endpoint.notificationUrl,
        secret: endpoint.secret,
        id: input.notificationId,
        body: JSON.stringify(notification),
        now: new Date(),
      });
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw ApplicationFailure.retryable(
          `notification URL answered HTTP ${response.statusCode}`,
          'NotificationFailed',
        );
      }
      return 'sent';
    },
  };
}
