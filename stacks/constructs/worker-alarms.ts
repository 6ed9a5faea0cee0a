import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Construct } from "constructs";
import { pin } from "../pin.js";
import { backlogWithoutWorkersQuery } from "./worker-autoscaling.js";

export interface WorkerAlarmsProps {
  readonly namePrefix: string;
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  readonly clusterName: string;
  readonly serviceName: string;
  /** The worker's Embedded Metric Format metrics: namespace, the failed-jobs metric and its dimension. */
  readonly metrics: {
    readonly namespace: string;
    readonly outcomes: { readonly failed: string };
    readonly serviceDimension: { readonly name: string; readonly value: string };
  };
  readonly maxMessageAgeSeconds: number;
  readonly failedJobsThreshold: number;
  /** Where alarms go (SNS topic ARNs); empty: no actions. */
  readonly actions: string[];
  readonly tags?: { [key: string]: string };
}

/**
 * What on-call hears about the worker (README and docs/operations.md say what to do):
 * dead letters, old jobs, failing jobs, and jobs waiting without any worker.
 */
export class WorkerAlarms extends Construct {
  readonly alarms: CloudwatchMetricAlarm[];
  /** Alarm names by purpose: dead_letters, queue_age, jobs_failing, backlog_without_workers. */
  readonly names: { [purpose: string]: string };

  constructor(scope: Construct, id: string, props: WorkerAlarmsProps) {
    super(scope, id);
    const common = {
      alarmActions: props.actions,
      okActions: props.actions,
      treatMissingData: "notBreaching",
      tags: props.tags,
    };
    this.alarms = [
      pin(
        new CloudwatchMetricAlarm(this, "dead-letters", {
          ...common,
          alarmName: `${props.namePrefix}-worker-dead-letters`,
          alarmDescription: "Analysis jobs reached the dead-letter queue: they failed maxReceiveCount times",
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: props.deadLetterQueueName },
          statistic: "Maximum",
          period: 300,
          evaluationPeriods: 1,
          comparisonOperator: "GreaterThanThreshold",
          threshold: 0,
        }),
        "worker_dead_letters",
      ),
      pin(
        new CloudwatchMetricAlarm(this, "queue-age", {
          ...common,
          alarmName: `${props.namePrefix}-worker-queue-age`,
          alarmDescription: "The oldest analysis job waits longer than worker_max_message_age_seconds",
          namespace: "AWS/SQS",
          metricName: "ApproximateAgeOfOldestMessage",
          dimensions: { QueueName: props.queueName },
          statistic: "Maximum",
          period: 300,
          evaluationPeriods: 2,
          comparisonOperator: "GreaterThanThreshold",
          threshold: props.maxMessageAgeSeconds,
        }),
        "worker_queue_age",
      ),
      pin(
        new CloudwatchMetricAlarm(this, "jobs-failing", {
          ...common,
          alarmName: `${props.namePrefix}-worker-jobs-failing`,
          alarmDescription: "More than worker_failed_jobs_threshold jobs failed for good (error.json) in 15 minutes",
          namespace: props.metrics.namespace,
          metricName: props.metrics.outcomes.failed,
          dimensions: { [props.metrics.serviceDimension.name]: props.metrics.serviceDimension.value },
          statistic: "Sum",
          period: 900,
          evaluationPeriods: 1,
          comparisonOperator: "GreaterThanThreshold",
          threshold: props.failedJobsThreshold,
        }),
        "worker_jobs_failing",
      ),
      pin(
        new CloudwatchMetricAlarm(this, "no-workers", {
          ...common,
          alarmName: `${props.namePrefix}-worker-backlog-without-workers`,
          alarmDescription: "Jobs have waited 10 minutes while no worker task runs",
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          threshold: 1,
          evaluationPeriods: 10,
          datapointsToAlarm: 10,
          metricQuery: backlogWithoutWorkersQuery(props.queueName, props.clusterName, props.serviceName),
        }),
        "worker_backlog_without_workers",
      ),
    ];
    const [deadLetters, queueAge, jobsFailing, backlogWithoutWorkers] = this.alarms.map((a) => a.alarmName);
    this.names = {
      dead_letters: deadLetters,
      queue_age: queueAge,
      jobs_failing: jobsFailing,
      backlog_without_workers: backlogWithoutWorkers,
    };
  }
}
