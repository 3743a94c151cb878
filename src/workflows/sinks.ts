import { proxySinks, type Sinks } from '@temporalio/workflow';

/**
 * Metrics from workflow code. A sink call adds nothing to the history (old histories replay unchanged) and is not
 * repeated when a workflow replays; the worker turns each call into a Prometheus counter (src/lib/metrics.ts).
 */
export interface MetricsSinks extends Sinks {
  metrics: {
    suspended(environment: string, kind: 'failing' | 'manual'): void;
    reactivated(environment: string, by: 'customer' | 'recovery'): void;
    notificationGivenUp(environment: string): void;
  };
}

export const { metrics } = proxySinks<MetricsSinks>();
