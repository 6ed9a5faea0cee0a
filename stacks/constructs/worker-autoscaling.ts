import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import {
  CloudwatchMetricAlarm,
  type CloudwatchMetricAlarmMetricQuery,
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

/** How the worker scales on its backlog (the `worker_*` scaling inputs). */
export interface WorkerScalingSettings {
  /** Fewest tasks (0 lets the worker scale to zero). */
  readonly minCount: number;
  /** Most tasks. */
  readonly maxCount: number;
  /** Visible messages per running task to aim for. */
  readonly backlogPerTask: number;
  /** Seconds after a scale-out before the next one. */
  readonly scaleOutCooldownSeconds: number;
  /** Seconds after a scale-in before the next one. */
  readonly scaleInCooldownSeconds: number;
  /**
   * Seconds after the scale-from-zero step before it may add a task again: above the
   * worst case of a task's start (`WORST_CASE_TASK_START_S`).
   */
  readonly scaleFromZeroCooldownSeconds: number;
}

/**
 * What we allow Fargate to provision a task (its network interface) and pull the
 * worker's image: our bound for the worker's image size, not a figure AWS publishes.
 */
export const TASK_PROVISIONING_ALLOWANCE_S = 240;

/**
 * The longest a new worker task takes from being wanted to being healthy (or found
 * unhealthy and replaced): provisioning and image pull, then the health check's start
 * period and its retries (the contract's). The scale-from-zero cooldown must be longer,
 * so that one step's task has started, or failed, before the next step is considered.
 */
export const WORST_CASE_TASK_START_S =
  TASK_PROVISIONING_ALLOWANCE_S +
  CONTRACT.healthCheck.startPeriodS +
  CONTRACT.healthCheck.retries * CONTRACT.healthCheck.intervalS;

export interface WorkerAutoscalingProps extends WorkerScalingSettings {
  /** Prefix of the policy and alarm names (the project name). */
  readonly namePrefix: string;
  /** Cluster of the service. */
  readonly cluster: EcsCluster;
  /** The service whose task count the autoscaler sets. */
  readonly service: EcsService;
  /** The queue whose backlog drives the scaling. */
  readonly queue: AnalysisQueue;
  /** Tags of the scalable target and the scale-from-zero alarm. @default - none */
  readonly tags?: Tags;
}

/** The queue's visible messages per minute (id `visible`), an input of the queries below. */
function visibleMessagesQuery(queue: AnalysisQueue): CloudwatchMetricAlarmMetricQuery {
  return {
    id: "visible",
    metric: {
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: queue.name },
      stat: "Maximum",
      period: 60,
    },
    returnData: false,
  };
}

/**
 * The queries that say "jobs wait and no worker runs": the queue's visible
 * messages and the service's running tasks (Container Insights), as 1 or 0, for the
 * page `backlog_without_workers` (10 minutes of 10). A minute without a running-count
 * datapoint counts as 0 here: a task that never reaches RUNNING is what the page is
 * for, and one late datapoint cannot make ten minutes in a row.
 */
export function backlogWithoutWorkersQuery(
  queue: AnalysisQueue,
  cluster: EcsCluster,
  service: EcsService,
): CloudwatchMetricAlarmMetricQuery[] {
  return [
    visibleMessagesQuery(queue),
    {
      id: "running",
      metric: {
        namespace: "ECS/ContainerInsights",
        metricName: "RunningTaskCount",
        dimensions: { ClusterName: cluster.name, ServiceName: service.name },
        stat: "Maximum",
        period: 60,
      },
      returnData: false,
    },
    {
      id: "stuck",
      expression: "IF(FILL(visible, 0) > 0 AND FILL(running, 0) == 0, 1, 0)",
      label: "Jobs waiting while no worker task runs",
      returnData: true,
    },
  ];
}

/**
 * The queries that say "jobs wait and the service wants no task": the queue's visible
 * messages and the service's desired task count (Container Insights), as 1 or 0. Desired,
 * not running: once the step has asked for a task, a task that crashes, waits for an
 * image or an IP, or starts slowly does not make it ask again. Nothing is filled in: a
 * minute without a desired-count datapoint gives no datapoint (missing, not "no tasks").
 */
export function scaleFromZeroQuery(
  queue: AnalysisQueue,
  cluster: EcsCluster,
  service: EcsService,
): CloudwatchMetricAlarmMetricQuery[] {
  return [
    visibleMessagesQuery(queue),
    {
      id: "desired",
      metric: {
        namespace: "ECS/ContainerInsights",
        metricName: "DesiredTaskCount",
        dimensions: { ClusterName: cluster.name, ServiceName: service.name },
        stat: "Maximum",
        period: 60,
      },
      returnData: false,
    },
    {
      id: "wanted",
      expression: "IF(visible > 0 AND desired == 0, 1, 0)",
      label: "Jobs waiting while the service wants no task",
      returnData: true,
    },
  ];
}

/** Minutes in a row that jobs must wait at zero desired tasks before the step adds one. */
export const SCALE_FROM_ZERO_DATAPOINTS = 2;

/** The scale-from-zero alarm in the docs' alarm table: a scaling action, not a page. */
export const SCALE_FROM_ZERO_ALARM: WorkerAlarmDoc = {
  key: "scale_from_zero",
  firesWhen: `Jobs wait and the service wants no task (desired count 0), ${SCALE_FROM_ZERO_DATAPOINTS} minutes of ${SCALE_FROM_ZERO_DATAPOINTS}.`,
  whatToDo:
    "Nothing: it is the scaling action that asks for the first task (+1, then a cooldown of `worker_scale_from_zero_cooldown_seconds`), not a page.",
};

/**
 * Scaling of the worker service on backlog per running task:
 * - target tracking on ApproximateNumberOfMessagesVisible / RunningTaskCount
 *   (`aws_appautoscaling_policy.worker_backlog`);
 * - from zero tasks, where that ratio is undefined, a step policy
 *   (`aws_appautoscaling_policy.worker_scale_from_zero`, +1) that the alarm
 *   `aws_cloudwatch_metric_alarm.worker_scale_from_zero` starts when jobs wait and
 *   the service's desired count is 0 for 2 minutes of 2; its cooldown is longer than
 *   a task's worst-case start. It asks for one task at a time and never again while
 *   the service wants one, whether or not it runs. With `minCount` >= 1 it never fires.
 */
export class WorkerAutoscaling extends Construct {
  /** `aws_appautoscaling_target.worker`: the service's task count between the bounds. */
  readonly target: AppautoscalingTarget;
  /** `aws_cloudwatch_metric_alarm.worker_scale_from_zero`: starts the first task. */
  readonly scaleFromZeroAlarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: WorkerAutoscalingProps) {
    super(scope, id);
    checkScalingSettings("WorkerAutoscaling", "", props);
    this.target = pin(
      new AppautoscalingTarget(this, "target", {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: `service/${props.cluster.name}/${props.service.name}`,
        minCapacity: props.minCount,
        maxCapacity: props.maxCount,
        tags: props.tags,
      }),
      "worker",
    );
    const scaled = {
      serviceNamespace: this.target.serviceNamespace,
      scalableDimension: this.target.scalableDimension,
      resourceId: this.target.resourceId,
    };

    const metric = (metricName: string, namespace: string, dimensions: { name: string; value: string }[]) => ({
      metric: { metricName, namespace, dimensions },
      stat: "Average",
    });
    pin(
      new AppautoscalingPolicy(this, "backlog", {
        name: `${props.namePrefix}-worker-backlog-per-task`,
        policyType: "TargetTrackingScaling",
        ...scaled,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: props.backlogPerTask,
          scaleOutCooldown: props.scaleOutCooldownSeconds,
          scaleInCooldown: props.scaleInCooldownSeconds,
          customizedMetricSpecification: {
            metrics: [
              {
                id: "visible",
                metricStat: metric("ApproximateNumberOfMessagesVisible", "AWS/SQS", [
                  { name: "QueueName", value: props.queue.name },
                ]),
                returnData: false,
              },
              {
                id: "running",
                metricStat: metric("RunningTaskCount", "ECS/ContainerInsights", [
                  { name: "ClusterName", value: props.cluster.name },
                  { name: "ServiceName", value: props.service.name },
                ]),
                returnData: false,
              },
              {
                id: "backlog_per_task",
                expression: "visible / running",
                label: "Backlog per running task",
                returnData: true,
              },
            ],
          },
        },
      }),
      "worker_backlog",
    );

    const fromZeroNames = workerAlarmNames(props.namePrefix, SCALE_FROM_ZERO_ALARM.key);
    const fromZero = pin(
      new AppautoscalingPolicy(this, "from-zero", {
        name: `${props.namePrefix}-worker-scale-from-zero`,
        policyType: "StepScaling",
        ...scaled,
        stepScalingPolicyConfiguration: {
          adjustmentType: "ChangeInCapacity",
          cooldown: props.scaleFromZeroCooldownSeconds,
          metricAggregationType: "Maximum",
          stepAdjustment: [{ metricIntervalLowerBound: "0", scalingAdjustment: 1 }],
        },
      }),
      fromZeroNames.logicalId,
    );
    this.scaleFromZeroAlarm = pin(
      new CloudwatchMetricAlarm(this, "from-zero-alarm", {
        alarmName: fromZeroNames.alarmName,
        alarmDescription: "Jobs wait and the worker service wants no task: ask for one (scaling action, not a page)",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        evaluationPeriods: SCALE_FROM_ZERO_DATAPOINTS,
        datapointsToAlarm: SCALE_FROM_ZERO_DATAPOINTS,
        treatMissingData: "notBreaching",
        metricQuery: scaleFromZeroQuery(props.queue, props.cluster, props.service),
        alarmActions: [fromZero.arn],
        tags: props.tags,
      }),
      fromZeroNames.logicalId,
    );
  }
}

/**
 * Guards for literal settings (the stack's come from variables, which validate
 * them at plan time); `prefix` is how the caller's props reach them (`scaling.`).
 */
export function checkScalingSettings(construct: string, prefix: string, settings: WorkerScalingSettings): void {
  const literal = (n: number) => !Token.isUnresolved(n);
  const { minCount, maxCount, backlogPerTask, scaleFromZeroCooldownSeconds } = settings;
  if (literal(minCount) && literal(maxCount) && minCount > maxCount) {
    throw new Error(
      `${construct}: ${prefix}minCount (${minCount}) is above ${prefix}maxCount (${maxCount}): raise ${prefix}maxCount or lower ${prefix}minCount`,
    );
  }
  if (literal(scaleFromZeroCooldownSeconds) && scaleFromZeroCooldownSeconds < WORST_CASE_TASK_START_S) {
    throw new Error(
      `${construct}: ${prefix}scaleFromZeroCooldownSeconds (${scaleFromZeroCooldownSeconds}) is below a task's worst-case start (${WORST_CASE_TASK_START_S} s): give at least ${WORST_CASE_TASK_START_S}, or the step may add a second task before the first has started`,
    );
  }
  if (literal(backlogPerTask) && backlogPerTask <= 0) {
    throw new Error(
      `${construct}: ${prefix}backlogPerTask is ${backlogPerTask}: give the visible jobs per task to aim for, above 0`,
    );
  }
}
