/**
 * Per-job metrics in CloudWatch Embedded Metric Format: a JSON log line with an
 * `_aws` member, from which CloudWatch Logs extracts metrics without any agent.
 */
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

/** Metric names per outcome: each job counts 1 in exactly one of them. */
export const OUTCOME_METRIC: Record<JobOutcome, string> = {
  succeeded: "JobsSucceeded",
  failed: "JobsFailed",
  retried: "JobsRetried",
  rejected: "JobsRejected",
  released: "JobsReleased",
  duplicate: "JobsDuplicate",
  lost: "JobsLost",
};

export function emitJobMetrics(log: Logger, namespace: string, metrics: JobMetrics, now = Date.now()): void {
  const names = [
    OUTCOME_METRIC[metrics.outcome],
    "JobDuration",
    ...(metrics.queueWaitMs === undefined ? [] : ["QueueWait"]),
  ];
  log.raw({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [["Service"]],
          Metrics: names.map((Name) => ({ Name, Unit: Name.startsWith("Jobs") ? "Count" : "Milliseconds" })),
        },
      ],
    },
    Service: "worker",
    [OUTCOME_METRIC[metrics.outcome]]: 1,
    JobDuration: metrics.durationMs,
    ...(metrics.queueWaitMs === undefined ? {} : { QueueWait: metrics.queueWaitMs }),
    outcome: metrics.outcome,
    jobId: metrics.jobId,
    attempt: metrics.attempt,
  });
}
