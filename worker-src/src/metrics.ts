/**
 * Per-job metrics in CloudWatch Embedded Metric Format: a JSON log line with an
 * `_aws` member, from which CloudWatch Logs extracts metrics without any agent.
 *
 * Dimensions: Service, and Environment when the worker knows its environment
 * (WORKER_ENVIRONMENT; the stack sets it to its `environment` input), so that
 * staging and production in one account and region never share a metric. When
 * it is unset (a local run), the metrics carry Service alone and main warns at
 * start: an environment's alarms, which read both dimensions, do not see them.
 */
import { WORKER_CONTRACT } from "./contract.js";
import type { Logger } from "./logger.js";

export type JobOutcome = "succeeded" | "failed" | "retried" | "rejected" | "released" | "duplicate" | "lost";

export interface JobMetrics {
  outcome: JobOutcome;
  jobId?: string;
  attempt: number;
  /** Time the job ran in this worker. */
  durationMs: number;
  /** Time from sending to this receive. */
  queueWaitMs?: number;
}

/** Metric names per outcome: each job counts 1 in exactly one of them (the alarms read them). */
export const OUTCOME_METRIC: Record<JobOutcome, string> = WORKER_CONTRACT.metrics.outcomes;
const { serviceDimension, environmentDimension, jobDuration, queueWait } = WORKER_CONTRACT.metrics;

export interface MetricsTarget {
  namespace: string;
  /** The Environment dimension's value; undefined: no Environment dimension. */
  environment?: string;
}

export function emitJobMetrics(log: Logger, target: MetricsTarget, metrics: JobMetrics, now = Date.now()): void {
  const { namespace, environment } = target;
  const dimensions =
    environment === undefined ? [serviceDimension.name] : [serviceDimension.name, environmentDimension.name];
  const names = [
    OUTCOME_METRIC[metrics.outcome],
    jobDuration,
    ...(metrics.queueWaitMs === undefined ? [] : [queueWait]),
  ];
  log.raw({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [dimensions],
          Metrics: names.map((Name) => ({ Name, Unit: Name.startsWith("Jobs") ? "Count" : "Milliseconds" })),
        },
      ],
    },
    [serviceDimension.name]: serviceDimension.value,
    ...(environment === undefined ? {} : { [environmentDimension.name]: environment }),
    [OUTCOME_METRIC[metrics.outcome]]: 1,
    [jobDuration]: metrics.durationMs,
    ...(metrics.queueWaitMs === undefined ? {} : { [queueWait]: metrics.queueWaitMs }),
    outcome: metrics.outcome,
    jobId: metrics.jobId,
    attempt: metrics.attempt,
  });
}
