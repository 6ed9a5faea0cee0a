import {
  CloudwatchMetricAlarm,
  type CloudwatchMetricAlarmConfig,
} from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import type { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import type { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { WORKER_CONTRACT as CONTRACT } from "../../worker-src/src/contract.js";
import { pin } from "../pin.js";
import type { Tags } from "../tags.js";
import type { AnalysisQueue } from "./compute-locals.js";
import { type WorkerAlarmDoc, workerAlarmNames } from "./worker-alarm-names.js";
import { backlogWithoutWorkersQuery } from "./worker-autoscaling.js";

/** The alarm thresholds that come from inputs. */
export interface WorkerAlarmThresholds {
  /** Seconds the oldest job may wait (`worker_max_message_age_seconds`). */
  readonly maxMessageAgeSeconds: number;
  /** Jobs that may fail for good in 15 minutes (`worker_failed_jobs_threshold`). */
  readonly failedJobsThreshold: number;
}

/** What an alarm's condition may read. */
export interface WorkerAlarmContext {
  /** The analysis queue and its dead-letter queue. */
  readonly queue: AnalysisQueue;
  /** The worker's cluster. */
  readonly cluster: EcsCluster;
  /** The worker's service. */
  readonly service: EcsService;
  /** The thresholds from the inputs. */
  readonly thresholds: WorkerAlarmThresholds;
  /** The deployment environment (`var.environment`): the worker metrics' Environment dimension. */
  readonly environmentName: string;
}

/** An alarm's metric, statistic, period, comparison and threshold: the rest is common to all. */
export type WorkerAlarmCondition = Omit<
  CloudwatchMetricAlarmConfig,
  "alarmName" | "alarmDescription" | "alarmActions" | "okActions" | "treatMissingData" | "tags"
>;

/** One alarm of the worker: its names (from `key`), its docs and its condition. */
export interface WorkerAlarmDefinition extends WorkerAlarmDoc {
  /** The alarm's description in CloudWatch. */
  readonly description: string;
  /** What it watches. */
  readonly condition: (context: WorkerAlarmContext) => WorkerAlarmCondition;
  /**
   * A deployment alarm of the worker service: while a deployment runs (and during its bake
   * time), this alarm going to ALARM fails the deployment and ECS rolls it back. @default false
   */
  readonly deploymentAlarm?: boolean;
}

/** The dimensions of the worker's metrics: Service, and Environment (the contract's names). */
export function workerMetricDimensions(environmentName: string): { [name: string]: string } {
  return {
    [CONTRACT.metrics.serviceDimension.name]: CONTRACT.metrics.serviceDimension.value,
    [CONTRACT.metrics.environmentDimension.name]: environmentName,
  };
}

/**
 * What on-call hears about the worker. To add an alarm, add an entry here: the
 * construct makes it (`aws_cloudwatch_metric_alarm.worker_<key>`, actions, tags),
 * the `worker_alarm_names` output lists it, `npm run docs` puts it in
 * docs/worker-operations.md, and the tests check each entry.
 */
export const WORKER_ALARMS: readonly WorkerAlarmDefinition[] = [
  {
    key: "dead_letters",
    description: "Analysis jobs reached the dead-letter queue: they failed maxReceiveCount times",
    firesWhen:
      "Any message is visible in the dead-letter queue (`analysis_dlq_name`, default `<queue>-dlq`), 5 min maximum.",
    whatToDo:
      "Jobs failed `maxReceiveCount` times. Read why in the worker's logs (Logs Insights on `messageId`), fix the cause (a bad deploy: roll back; a poison message: drop it), then replay the dead letters to the queue.",
    condition: ({ queue }) => ({
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: queue.deadLetterQueueName },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
    }),
  },
  {
    key: "queue_age",
    description: "The oldest analysis job waits longer than worker_max_message_age_seconds",
    firesWhen:
      "The oldest job has waited longer than `worker_max_message_age_seconds` (default 30 min) for 10 minutes.",
    whatToDo:
      "Workers are too few or stuck: check running tasks and `worker_max_count`, the service's events, and whether jobs time out (`job timed out` in the logs).",
    condition: ({ queue, thresholds }) => ({
      namespace: "AWS/SQS",
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: queue.name },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 2,
      comparisonOperator: "GreaterThanThreshold",
      threshold: thresholds.maxMessageAgeSeconds,
    }),
  },
  {
    key: "jobs_failing",
    description: "More than worker_failed_jobs_threshold jobs failed for good (error.json) in 15 minutes",
    firesWhen:
      "More than `worker_failed_jobs_threshold` (default 5) jobs failed for good (error.json) in 15 minutes (`JobsFailed` of this `environment`, Embedded Metric Format). A deployment alarm: it rolls a deployment back.",
    whatToDo:
      "Read the `reason` of the recent `analysis/<jobId>/error.json` and the `job failed for good` log lines: bad uploads (`not-a-video`) are the client's; `video-not-found` points at the backend's upload path or `worker_video_prefixes`. During a deployment it also rolls the deployment back.",
    deploymentAlarm: true,
    condition: ({ thresholds, environmentName }) => ({
      namespace: CONTRACT.metrics.namespace,
      metricName: CONTRACT.metrics.outcomes.failed,
      dimensions: workerMetricDimensions(environmentName),
      statistic: "Sum",
      period: 900,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: thresholds.failedJobsThreshold,
    }),
  },
  {
    key: "backlog_without_workers",
    description: "Jobs have waited 10 minutes while no worker task runs",
    firesWhen:
      "Jobs have waited 10 minutes with no worker task running (10 minutes of 10; a minute without a running-count datapoint counts as none running).",
    whatToDo:
      "Scale-from-zero or the service is broken: check the service's events (image pull, capacity, health checks), the scale-from-zero alarm's history, and `worker_min_count`.",
    condition: ({ queue, cluster, service }) => ({
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      evaluationPeriods: 10,
      datapointsToAlarm: 10,
      metricQuery: backlogWithoutWorkersQuery(queue, cluster, service),
    }),
  },
];

export interface WorkerAlarmsProps extends WorkerAlarmContext {
  /** Prefix of the alarm names (the project name). */
  readonly namePrefix: string;
  /** Where alarms and their return to OK go (SNS topic ARNs): the alarm topic's actions (`AlarmTopic`). */
  readonly actions: string[];
  /** The alarms to make. @default WORKER_ALARMS */
  readonly definitions?: readonly WorkerAlarmDefinition[];
  /** Tags of the alarms. @default - none */
  readonly tags?: Tags;
}

/**
 * The worker's alarms, one `aws_cloudwatch_metric_alarm.worker_<key>` per
 * definition, each notifying `actions` on alarm and on OK; missing data is not
 * breaching (an idle queue publishes nothing). Guard: an empty literal `actions` list
 * (alarms that notify nobody) is refused.
 */
export class WorkerAlarms extends Construct {
  /** The alarms by key. */
  readonly alarms: { readonly [key: string]: CloudwatchMetricAlarm };
  /** The alarm names by key (the `worker_alarm_names` output). */
  readonly names: { readonly [key: string]: string };
  /** Names of the alarms that are the worker service's deployment alarms (`deploymentAlarm`). */
  readonly deploymentAlarmNames: string[];

  constructor(scope: Construct, id: string, props: WorkerAlarmsProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.actions) && props.actions.length === 0) {
      throw new Error(
        "WorkerAlarms: actions is empty: the alarms would notify nobody; give the alarm topic's ARN (AlarmTopic's actions)",
      );
    }
    const definitions = props.definitions ?? WORKER_ALARMS;
    const keys = definitions.map((d) => d.key);
    const repeated = keys.find((key, i) => keys.indexOf(key) !== i);
    if (repeated !== undefined) {
      throw new Error(`WorkerAlarms: two definitions have the key "${repeated}": give each alarm its own key`);
    }
    this.alarms = Object.fromEntries(
      definitions.map((definition) => {
        const { logicalId, alarmName } = workerAlarmNames(props.namePrefix, definition.key);
        const alarm = new CloudwatchMetricAlarm(this, definition.key.replaceAll("_", "-"), {
          ...definition.condition(props),
          alarmName,
          alarmDescription: definition.description,
          alarmActions: props.actions,
          okActions: props.actions,
          treatMissingData: "notBreaching",
          tags: props.tags,
        });
        return [definition.key, pin(alarm, logicalId)];
      }),
    );
    this.names = Object.fromEntries(Object.entries(this.alarms).map(([key, alarm]) => [key, alarm.alarmName]));
    this.deploymentAlarmNames = definitions.filter((d) => d.deploymentAlarm).map((d) => this.names[d.key]);
  }
}
