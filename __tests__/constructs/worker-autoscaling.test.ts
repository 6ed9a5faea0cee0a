/** WorkerAutoscaling: target tracking on backlog per task, the step policy from zero and its alarm. */
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { describe, expect, test } from "vitest";
import {
  TASK_PROVISIONING_ALLOWANCE_S,
  WORST_CASE_TASK_START_S,
  WorkerAutoscaling,
  type WorkerAutoscalingProps,
} from "../../stacks/constructs/worker-autoscaling.js";
import { WORKER_CONTRACT as CONTRACT } from "../../worker-src/src/contract.js";
import { block, givenStack, synth } from "./testing.js";

function whenAutoscaling(props: Partial<WorkerAutoscalingProps> = {}) {
  const { stack, cluster, queue } = givenStack();
  const service = new EcsService(stack, "service", { name: "demo-worker-service" });
  new WorkerAutoscaling(stack, "autoscaling", {
    namePrefix: "demo",
    cluster,
    service,
    queue,
    minCount: 0,
    maxCount: 10,
    backlogPerTask: 10,
    scaleOutCooldownSeconds: 60,
    scaleInCooldownSeconds: 300,
    scaleFromZeroCooldownSeconds: 600,
    ...props,
  });
  return synth(stack);
}

describe("scaling", () => {
  test("tracks visible messages per running task between the counts", () => {
    // WHEN
    const { json } = whenAutoscaling({ minCount: 1, maxCount: 3, backlogPerTask: 5 });
    // THEN
    expect(block(json, AppautoscalingTarget, "worker")).toMatchObject({
      service_namespace: "ecs",
      scalable_dimension: "ecs:service:DesiredCount",
      resource_id: "service/${aws_ecs_cluster.cluster.name}/${aws_ecs_service.service.name}",
      min_capacity: 1,
      max_capacity: 3,
    });
    const tracking = block(json, AppautoscalingPolicy, "worker_backlog");
    expect(tracking).toMatchObject({
      policy_type: "TargetTrackingScaling",
      resource_id: "${aws_appautoscaling_target.worker.resource_id}",
      target_tracking_scaling_policy_configuration: { target_value: 5, scale_out_cooldown: 60, scale_in_cooldown: 300 },
    });
    const { metrics } = (
      tracking.target_tracking_scaling_policy_configuration as {
        customized_metric_specification: { metrics: { id: string; expression?: string; return_data: boolean }[] };
      }
    ).customized_metric_specification;
    expect(metrics.map(({ id, expression, return_data }) => ({ id, expression, return_data }))).toEqual([
      { id: "visible", expression: undefined, return_data: false },
      { id: "running", expression: undefined, return_data: false },
      { id: "backlog_per_task", expression: "visible / running", return_data: true },
    ]);
  });

  test("from zero: a step of +1 with its own cooldown, started when jobs wait and the service wants no task", () => {
    // WHEN
    const { json } = whenAutoscaling({ scaleOutCooldownSeconds: 120, scaleFromZeroCooldownSeconds: 900 });
    // THEN
    expect(block(json, AppautoscalingPolicy, "worker_scale_from_zero")).toMatchObject({
      policy_type: "StepScaling",
      step_scaling_policy_configuration: {
        adjustment_type: "ChangeInCapacity",
        cooldown: 900,
        step_adjustment: [{ metric_interval_lower_bound: "0", scaling_adjustment: 1 }],
      },
    });
    const alarm = block(json, CloudwatchMetricAlarm, "worker_scale_from_zero");
    expect(alarm).toMatchObject({
      alarm_name: "demo-worker-scale-from-zero",
      alarm_actions: ["${aws_appautoscaling_policy.worker_scale_from_zero.arn}"],
      evaluation_periods: 2,
      datapoints_to_alarm: 2,
      treat_missing_data: "notBreaching",
    });
    const queries = alarm.metric_query as {
      id: string;
      expression?: string;
      metric?: { namespace: string; metric_name: string; dimensions: Record<string, string> };
    }[];
    // desired, not running: a task that never starts does not make the step ask again
    expect(queries.map((q) => [q.id, q.expression ?? `${q.metric?.namespace} ${q.metric?.metric_name}`])).toEqual([
      ["visible", "AWS/SQS ApproximateNumberOfMessagesVisible"],
      ["desired", "ECS/ContainerInsights DesiredTaskCount"],
      ["wanted", "IF(visible > 0 AND desired == 0, 1, 0)"],
    ]);
    expect(queries[1].metric?.dimensions).toEqual({
      ClusterName: "${aws_ecs_cluster.cluster.name}",
      ServiceName: "${aws_ecs_service.service.name}",
    });
    // nothing filled in: a missing datapoint is missing, not "no tasks"
    expect(JSON.stringify(queries)).not.toContain("FILL(");
  });

  test("the cooldown of the step is at least a task's worst-case start from the contract", () => {
    expect(WORST_CASE_TASK_START_S).toBe(
      TASK_PROVISIONING_ALLOWANCE_S +
        CONTRACT.healthCheck.startPeriodS +
        CONTRACT.healthCheck.retries * CONTRACT.healthCheck.intervalS,
    );
    expect(() => whenAutoscaling({ scaleFromZeroCooldownSeconds: WORST_CASE_TASK_START_S })).not.toThrow();
    expect(() => whenAutoscaling({ scaleFromZeroCooldownSeconds: WORST_CASE_TASK_START_S - 1 })).toThrow(
      `WorkerAutoscaling: scaleFromZeroCooldownSeconds (${WORST_CASE_TASK_START_S - 1}) is below a task's worst-case start (${WORST_CASE_TASK_START_S} s): give at least ${WORST_CASE_TASK_START_S}`,
    );
  });

  test("tags the target and the alarm when given; nothing otherwise", () => {
    const tagged = whenAutoscaling({ tags: { Component: "worker" } }).json;
    const untagged = whenAutoscaling().json;
    expect(block(tagged, AppautoscalingTarget, "worker").tags).toEqual({ Component: "worker" });
    expect(block(tagged, CloudwatchMetricAlarm, "worker_scale_from_zero").tags).toEqual({ Component: "worker" });
    expect(block(untagged, AppautoscalingTarget, "worker").tags).toBeUndefined();
  });
});

describe("guards", () => {
  test("rejects a minimum above the maximum and a backlog per task of 0 or less", () => {
    expect(() => whenAutoscaling({ minCount: 3, maxCount: 2 })).toThrow(
      "WorkerAutoscaling: minCount (3) is above maxCount (2): raise maxCount or lower minCount",
    );
    expect(() => whenAutoscaling({ backlogPerTask: -1 })).toThrow("WorkerAutoscaling: backlogPerTask is -1");
  });
});
