/**
 * WorkerAlarms: one alarm per definition (WORKER_ALARMS by default), named from
 * its key, with the common actions, missing-data rule and tags; each definition's
 * condition. The tests read the definitions, so a new alarm is checked as it is added.
 */
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { TerraformOutput, Token } from "cdktf";
import { describe, expect, test } from "vitest";
import { workerAlarmNames } from "../../stacks/constructs/worker-alarm-names.js";
import {
  WORKER_ALARMS,
  type WorkerAlarmDefinition,
  WorkerAlarms,
  type WorkerAlarmsProps,
} from "../../stacks/constructs/worker-alarms.js";
import { WORKER_CONTRACT as CONTRACT } from "../../worker-src/src/contract.js";
import { blocks, givenStack, synth } from "./testing.js";

const TOPIC = "arn:aws:sns:us-east-2:123456789012:oncall";

/** GIVEN a stack with a cluster and a service; WHEN the alarms are added with `props`. */
function whenAlarms(props: Partial<WorkerAlarmsProps> = {}) {
  const { stack, cluster, queue } = givenStack();
  const service = new EcsService(stack, "service", { name: "demo-worker-service" });
  const construct = new WorkerAlarms(stack, "alarms", {
    namePrefix: "demo",
    queue,
    cluster,
    service,
    thresholds: { maxMessageAgeSeconds: 1800, failedJobsThreshold: 5 },
    environmentName: "staging",
    actions: [TOPIC],
    ...props,
  });
  // the names as Terraform sees them: an output of the map
  new TerraformOutput(stack, "names", { value: Token.asAny(construct.names) });
  const { text, json } = synth(stack);
  const names = json.output.names.value as unknown as Record<string, string>;
  return { construct, text, alarms: blocks(json, CloudwatchMetricAlarm), names };
}

describe("each alarm of WORKER_ALARMS", () => {
  test.each(WORKER_ALARMS.map((definition) => [definition.key, definition] as const))(
    "%s: named from its key, described, notifying the actions on alarm and OK, missing data not breaching",
    (key, definition) => {
      // WHEN
      const { alarms, names } = whenAlarms();
      // THEN
      const { logicalId, alarmName } = workerAlarmNames("demo", key);
      expect(alarms[logicalId]).toMatchObject({
        alarm_name: alarmName,
        alarm_description: definition.description,
        alarm_actions: [TOPIC],
        ok_actions: [TOPIC],
        treat_missing_data: "notBreaching",
      });
      expect(names[key]).toBe(`\${aws_cloudwatch_metric_alarm.${logicalId}.alarm_name}`);
      expect(definition.firesWhen.length, "docs: when it fires").toBeGreaterThan(10);
      expect(definition.whatToDo.length, "docs: what to do").toBeGreaterThan(10);
    },
  );

  test("are all made, and nothing else", () => {
    // WHEN
    const { alarms } = whenAlarms();
    // THEN
    expect(Object.keys(alarms).sort()).toEqual(WORKER_ALARMS.map((a) => `worker_${a.key}`).sort());
  });
});

describe("the conditions", () => {
  test("dead letters: any visible message in the dead-letter queue", () => {
    const { alarms } = whenAlarms();
    expect(alarms.worker_dead_letters).toMatchObject({
      namespace: "AWS/SQS",
      metric_name: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: "jobs-dlq" },
      statistic: "Maximum",
      comparison_operator: "GreaterThanThreshold",
      threshold: 0,
    });
  });

  test("queue age: the oldest job older than the threshold, twice in 5 minutes", () => {
    const { alarms } = whenAlarms({ thresholds: { maxMessageAgeSeconds: 900, failedJobsThreshold: 5 } });
    expect(alarms.worker_queue_age).toMatchObject({
      metric_name: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: "jobs" },
      period: 300,
      evaluation_periods: 2,
      threshold: 900,
    });
  });

  test("jobs failing: the worker's JobsFailed metric of this environment, as the contract names it, over 15 minutes", () => {
    const { alarms } = whenAlarms({
      thresholds: { maxMessageAgeSeconds: 900, failedJobsThreshold: 3 },
      environmentName: "prod",
    });
    expect(alarms.worker_jobs_failing).toMatchObject({
      namespace: CONTRACT.metrics.namespace,
      metric_name: CONTRACT.metrics.outcomes.failed,
      dimensions: {
        [CONTRACT.metrics.serviceDimension.name]: CONTRACT.metrics.serviceDimension.value,
        [CONTRACT.metrics.environmentDimension.name]: "prod",
      },
      statistic: "Sum",
      period: 900,
      threshold: 3,
    });
  });

  test("jobs failing is the one deployment alarm: its name is handed out for the service", () => {
    const { construct } = whenAlarms();
    expect(WORKER_ALARMS.filter((a) => a.deploymentAlarm).map((a) => a.key)).toEqual(["jobs_failing"]);
    expect(construct.deploymentAlarmNames).toEqual([construct.names.jobs_failing]);
  });

  test("backlog without workers: visible jobs and no running task for 10 of 10 minutes", () => {
    const { alarms } = whenAlarms();
    const alarm = alarms.worker_backlog_without_workers;
    expect(alarm).toMatchObject({ evaluation_periods: 10, datapoints_to_alarm: 10, threshold: 1 });
    const queries = alarm.metric_query as { id: string; expression?: string; metric?: { dimensions: unknown } }[];
    expect(queries.map((q) => q.id)).toEqual(["visible", "running", "stuck"]);
    // a task that never reaches RUNNING is what this page is for: a minute without data counts as none running
    expect(queries[2].expression).toBe("IF(FILL(visible, 0) > 0 AND FILL(running, 0) == 0, 1, 0)");
    expect(queries[1].metric?.dimensions).toEqual({
      ClusterName: "${aws_ecs_cluster.cluster.name}",
      ServiceName: "${aws_ecs_service.service.name}",
    });
  });
});

describe("optional props", () => {
  test("definitions replaces the alarms made", () => {
    // GIVEN
    const only: WorkerAlarmDefinition = {
      key: "cpu_high",
      description: "CPU high",
      firesWhen: "CPU above 90 % for 5 minutes.",
      whatToDo: "Raise worker_cpu.",
      condition: ({ cluster }) => ({
        namespace: "AWS/ECS",
        metricName: "CPUUtilization",
        dimensions: { ClusterName: cluster.name },
        statistic: "Average",
        period: 300,
        evaluationPeriods: 1,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 90,
      }),
    };
    // WHEN
    const { alarms, names } = whenAlarms({ definitions: [only] });
    // THEN
    expect(Object.keys(alarms)).toEqual(["worker_cpu_high"]);
    expect(alarms.worker_cpu_high).toMatchObject({ alarm_name: "demo-worker-cpu-high", threshold: 90 });
    expect(names).toEqual({ cpu_high: "${aws_cloudwatch_metric_alarm.worker_cpu_high.alarm_name}" });
  });

  test("tags go on every alarm; without them none", () => {
    const tagged = whenAlarms({ tags: { Component: "worker" } }).alarms;
    const untagged = whenAlarms().alarms;
    for (const key of Object.keys(tagged)) {
      expect(tagged[key].tags, key).toEqual({ Component: "worker" });
      expect(untagged[key].tags, key).toBeUndefined();
    }
  });
});

describe("guards", () => {
  test("rejects empty actions: alarms must notify someone", () => {
    expect(() => whenAlarms({ actions: [] })).toThrow(
      "WorkerAlarms: actions is empty: the alarms would notify nobody; give the alarm topic's ARN (AlarmTopic's actions)",
    );
  });

  test("rejects two definitions with one key, naming it", () => {
    expect(() => whenAlarms({ definitions: [WORKER_ALARMS[0], WORKER_ALARMS[0]] })).toThrow(
      `WorkerAlarms: two definitions have the key "${WORKER_ALARMS[0].key}": give each alarm its own key`,
    );
  });
});
