/**
 * Per-job metrics in CloudWatch Embedded Metric Format: a JSON log line with an
 * `_aws` member, from which CloudWatch Logs extracts metrics without any agent.
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
const { serviceDimension, jobDuration, queueWait } = WORKER_CONTRACT.metrics;

export function emitJobMetrics(log: Logger, namespace: string, metrics: JobMetrics, now = Date.now()): void {
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
          Dimensions: [[serviceDimension.name]],
          Metrics: names.map((Name) => ({ Name, Unit: Name.startsWith("Jobs") ? "Count" : "Milliseconds" })),
        },
      ],
    },
    [serviceDimension.name]: serviceDimension.value,
    [OUTCOME_METRIC[metrics.outcome]]: 1,
    [jobDuration]: metrics.durationMs,
    ...(metrics.queueWaitMs === undefined ? {} : { [queueWait]: metrics.queueWaitMs }),
    outcome: metrics.outcome,
    jobId: metrics.jobId,
    attempt: metrics.attempt,
  });
}
