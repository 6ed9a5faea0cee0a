import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import {
  CloudwatchMetricAlarm,
  type CloudwatchMetricAlarmMetricQuery,
} from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Construct } from "constructs";
import { pin } from "../pin.js";

export interface WorkerAutoscalingProps {
  readonly namePrefix: string;
  readonly clusterName: string;
  readonly serviceName: string;
  /** Name of the queue whose backlog drives the scaling. */
  readonly queueName: string;
  readonly minCount: number;
  readonly maxCount: number;
  /** Visible messages per running task to aim for. */
  readonly backlogPerTask: number;
  readonly scaleOutCooldownSeconds: number;
  readonly scaleInCooldownSeconds: number;
  readonly tags?: { [key: string]: string };
}

/**
 * The queries that say "jobs wait and no worker runs": the queue's visible
 * messages and the service's running tasks (Container Insights), as 1 or 0.
 * Missing data counts as 0 (Container Insights may publish nothing for a service at zero).
 */
export function backlogWithoutWorkersQuery(
  queueName: string,
  clusterName: string,
  serviceName: string,
): CloudwatchMetricAlarmMetricQuery[] {
  return [
    {
      id: "visible",
      metric: {
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: queueName },
        stat: "Maximum",
        period: 60,
      },
      returnData: false,
    },
    {
      id: "running",
      metric: {
        namespace: "ECS/ContainerInsights",
        metricName: "RunningTaskCount",
        dimensions: { ClusterName: clusterName, ServiceName: serviceName },
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
 * Scaling of the worker service on backlog per running task:
 * - target tracking on ApproximateNumberOfMessagesVisible / RunningTaskCount
 *   (`aws_appautoscaling_policy.worker_backlog`);
 * - from zero tasks, where that ratio is undefined, a step policy
 *   (`aws_appautoscaling_policy.worker_scale_from_zero`) that the alarm
 *   `aws_cloudwatch_metric_alarm.worker_scale_from_zero` starts when jobs wait
 *   and no task runs. With `minCount` >= 1 it never fires.
 */
export class WorkerAutoscaling extends Construct {
  readonly target: AppautoscalingTarget;
  readonly scaleFromZeroAlarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: WorkerAutoscalingProps) {
    super(scope, id);
    this.target = pin(
      new AppautoscalingTarget(this, "target", {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: `service/${props.clusterName}/${props.serviceName}`,
        minCapacity: props.minCount,
        maxCapacity: props.maxCount,
        tags: props.tags,
      }),
      "worker",
    );

    const metric = (metricName: string, namespace: string, dimensions: { name: string; value: string }[]) => ({
      metric: { metricName, namespace, dimensions },
      stat: "Average",
    });
    pin(
      new AppautoscalingPolicy(this, "backlog", {
        name: `${props.namePrefix}-worker-backlog-per-task`,
        policyType: "TargetTrackingScaling",
        serviceNamespace: this.target.serviceNamespace,
        scalableDimension: this.target.scalableDimension,
        resourceId: this.target.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: props.backlogPerTask,
          scaleOutCooldown: props.scaleOutCooldownSeconds,
          scaleInCooldown: props.scaleInCooldownSeconds,
          customizedMetricSpecification: {
            metrics: [
              {
                id: "visible",
                metricStat: metric("ApproximateNumberOfMessagesVisible", "AWS/SQS", [
                  { name: "QueueName", value: props.queueName },
                ]),
                returnData: false,
              },
              {
                id: "running",
                metricStat: metric("RunningTaskCount", "ECS/ContainerInsights", [
                  { name: "ClusterName", value: props.clusterName },
                  { name: "ServiceName", value: props.serviceName },
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

    const fromZero = pin(
      new AppautoscalingPolicy(this, "from-zero", {
        name: `${props.namePrefix}-worker-scale-from-zero`,
        policyType: "StepScaling",
        serviceNamespace: this.target.serviceNamespace,
        scalableDimension: this.target.scalableDimension,
        resourceId: this.target.resourceId,
        stepScalingPolicyConfiguration: {
          adjustmentType: "ChangeInCapacity",
          cooldown: props.scaleOutCooldownSeconds,
          metricAggregationType: "Maximum",
          stepAdjustment: [{ metricIntervalLowerBound: "0", scalingAdjustment: 1 }],
        },
      }),
      "worker_scale_from_zero",
    );
    this.scaleFromZeroAlarm = pin(
      new CloudwatchMetricAlarm(this, "from-zero-alarm", {
        alarmName: `${props.namePrefix}-worker-scale-from-zero`,
        alarmDescription: "Jobs wait and no worker task runs: start one (scaling action, not a page)",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
        metricQuery: backlogWithoutWorkersQuery(props.queueName, props.clusterName, props.serviceName),
        alarmActions: [fromZero.arn],
        tags: props.tags,
      }),
      "worker_scale_from_zero",
    );
  }
}
