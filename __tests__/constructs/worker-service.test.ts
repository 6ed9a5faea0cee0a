/**
 * WorkerService: the worker's service with (by default) its operations: own role,
 * graceful deploys from the worker's contract, scaling, alarms and outputs; with
 * `operations: false` the legacy worker. Optional props on and off; the guards.
 */
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { describe, expect, test } from "vitest";
import { WORKER_ALARMS } from "../../stacks/constructs/worker-alarms.js";
import { SCALE_FROM_ZERO_ALARM } from "../../stacks/constructs/worker-autoscaling.js";
import { WorkerService, type WorkerServiceProps } from "../../stacks/constructs/worker-service.js";
import { awslogs, CONTRACT_CONTAINER, CONTRACT_ENVIRONMENT, OPTIONAL_TASK_ARGUMENTS } from "./expected.js";
import { ACCOUNT, block, blocks, containersOf, givenStack, REGION, synth } from "./testing.js";

const SHARED_ENVIRONMENT = { SQS_QUEUE_URL: "https://sqs.us-east-2.amazonaws.com/123456789012/jobs" };

/** GIVEN a stack with a cluster, the shared roles and a security group; WHEN the worker is added with `props`. */
function synthWorker(props: Partial<WorkerServiceProps> = {}) {
  const { stack, cluster, roles, securityGroup, queue } = givenStack();
  const worker = new WorkerService(stack, "worker", {
    namePrefix: "demo",
    cluster,
    roles,
    image: "example/worker:1.0",
    cpu: 512,
    memory: 1024,
    desiredCount: 1,
    subnetIds: ["subnet-0aa11bb22cc33dd44"],
    securityGroups: [securityGroup],
    region: REGION,
    accountId: ACCOUNT,
    logRetentionDays: 30,
    environment: SHARED_ENVIRONMENT,
    queue,
    bucketName: "videos",
    videoPrefixes: ["uploads/"],
    ephemeralStorageGib: 30,
    scaling: { minCount: 1, maxCount: 4, backlogPerTask: 10, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 300 },
    alarms: {
      maxMessageAgeSeconds: 1800,
      failedJobsThreshold: 5,
      actions: ["arn:aws:sns:us-east-2:123456789012:oncall"],
    },
    ...props,
  });
  const { text, json } = synth(stack);
  const taskDefinition = block(json, EcsTaskDefinition, "worker");
  return { worker, text, json, taskDefinition, service: block(json, EcsService, "worker") };
}

/** synthWorker, and the one container of its task definition, decoded. */
async function whenWorker(props: Parameters<typeof synthWorker>[0] = {}) {
  const synthesized = synthWorker(props);
  const [container] = await containersOf(synthesized.taskDefinition);
  return { ...synthesized, container };
}

const ALARM_KEYS = [...WORKER_ALARMS.map((a) => a.key), SCALE_FROM_ZERO_ALARM.key];

describe("by default (operations on)", () => {
  test("operations defaults to true", async () => {
    // WHEN
    const byDefault = await whenWorker();
    const explicit = await whenWorker({ operations: true });
    // THEN
    expect(byDefault.text).toBe(explicit.text);
  });

  test("runs as its own role, trusted by ECS tasks, with the queue, its prefixes and task protection", async () => {
    // WHEN
    const { taskDefinition, json, worker } = await whenWorker();
    // THEN
    expect(taskDefinition.task_role_arn).toBe("${aws_iam_role.worker_task.arn}");
    expect(taskDefinition.execution_role_arn).toBe("${aws_iam_role.task_execution.arn}");
    expect(block(json, IamRole, "worker_task")).toMatchObject({
      name: "demo-worker-task",
      assume_role_policy: "${data.aws_iam_policy_document.ecs_tasks_assume.json}",
    });
    expect(block(json, IamRolePolicy, "worker_task").policy).toBe("${data.aws_iam_policy_document.worker_task.json}");
    const statements = block(json, DataAwsIamPolicyDocument, "worker_task").statement as { sid: string }[];
    expect(statements.map((s) => s.sid)).toEqual([
      "ConsumeAnalysisJobs",
      "ReadUploadedVideos",
      "WriteAnalysisResults",
      "TellMissingKeysFromDenied",
      "ScaleInProtection",
    ]);
    expect(worker.taskRole.friendlyUniqueId).toBe("worker_task");
  });

  test("gives the container the contract's variables after the shared ones, stop timeout, init, read-only root, volumes and health check", async () => {
    // WHEN
    const { container } = await whenWorker();
    // THEN
    expect(container).toMatchObject({
      name: "worker",
      image: "example/worker:1.0",
      environment: [{ name: "SQS_QUEUE_URL", value: SHARED_ENVIRONMENT.SQS_QUEUE_URL }, ...CONTRACT_ENVIRONMENT],
      ...CONTRACT_CONTAINER,
    });
    expect(container.portMappings).toBeUndefined();
  });

  test("keeps task definition revisions, sizes the storage, and leaves the task count to the autoscaler", async () => {
    // WHEN
    const { taskDefinition, service } = await whenWorker({ ephemeralStorageGib: 40 });
    // THEN
    expect(taskDefinition).toMatchObject({
      ephemeral_storage: { size_in_gib: 40 },
      volume: [{ name: "scratch" }],
      skip_destroy: true,
      lifecycle: { create_before_destroy: true },
    });
    expect(service).toMatchObject({
      lifecycle: { ignore_changes: ["desired_count"] },
      deployment_circuit_breaker: { enable: true, rollback: true },
    });
    expect(service.load_balancer).toBeUndefined();
  });

  test("scales between the given counts on backlog per task, and from zero", async () => {
    // WHEN
    const { text } = await whenWorker({
      scaling: {
        minCount: 0,
        maxCount: 7,
        backlogPerTask: 4,
        scaleOutCooldownSeconds: 30,
        scaleInCooldownSeconds: 600,
      },
    });
    // THEN
    expect(text).toHaveResourceWithProperties(AppautoscalingTarget, {
      resource_id: "service/${aws_ecs_cluster.cluster.name}/${aws_ecs_service.worker.name}",
      min_capacity: 0,
      max_capacity: 7,
    });
    expect(text).toHaveResourceWithProperties(AppautoscalingPolicy, {
      name: "demo-worker-backlog-per-task",
      target_tracking_scaling_policy_configuration: expect.objectContaining({
        target_value: 4,
        scale_out_cooldown: 30,
        scale_in_cooldown: 600,
      }),
    });
    expect(text).toHaveResourceWithProperties(AppautoscalingPolicy, { name: "demo-worker-scale-from-zero" });
  });

  test("makes every alarm of WORKER_ALARMS and the scale-from-zero alarm, the pages notifying the given topics", async () => {
    // WHEN
    const { json } = await whenWorker();
    // THEN
    const alarms = blocks(json, CloudwatchMetricAlarm);
    expect(Object.keys(alarms).sort()).toEqual(ALARM_KEYS.map((key) => `worker_${key}`).sort());
    for (const { key } of WORKER_ALARMS) {
      expect(alarms[`worker_${key}`], key).toMatchObject({
        alarm_actions: ["arn:aws:sns:us-east-2:123456789012:oncall"],
        ok_actions: ["arn:aws:sns:us-east-2:123456789012:oncall"],
      });
    }
    expect(alarms.worker_scale_from_zero.alarm_actions).toEqual([
      "${aws_appautoscaling_policy.worker_scale_from_zero.arn}",
    ]);
  });

  test("outputs the legacy worker outputs, its role, its scaling resource and its alarm names by key", async () => {
    // WHEN
    const { json } = await whenWorker();
    // THEN
    expect(Object.keys(json.output).sort()).toEqual([
      "worker_alarm_names",
      "worker_autoscaling_resource_id",
      "worker_log_group_name",
      "worker_service_arn",
      "worker_service_name",
      "worker_task_definition_arn",
      "worker_task_role_arn",
    ]);
    expect(json.output.worker_alarm_names.value).toEqual(
      Object.fromEntries(ALARM_KEYS.map((key) => [key, `\${aws_cloudwatch_metric_alarm.worker_${key}.alarm_name}`])),
    );
    expect(json.output.worker_task_role_arn.value).toBe("${aws_iam_role.worker_task.arn}");
  });

  test("without alarm actions the alarms notify nobody", async () => {
    // WHEN
    const { json } = await whenWorker({ alarms: { maxMessageAgeSeconds: 600, failedJobsThreshold: 0, actions: [] } });
    // THEN
    const alarms = blocks(json, CloudwatchMetricAlarm);
    expect(alarms.worker_dead_letters).toMatchObject({ alarm_actions: [], ok_actions: [] });
    expect(alarms.worker_queue_age.threshold).toBe(600);
    expect(alarms.worker_jobs_failing.threshold).toBe(0);
  });
});

describe("with operations: false (legacy parity)", () => {
  test("is the legacy worker: the shared task role, the given variables only, no container extras", async () => {
    // WHEN
    const { taskDefinition, container, service, worker } = await whenWorker({ operations: false });
    // THEN
    expect(taskDefinition.task_role_arn).toBe("${aws_iam_role.task.arn}");
    expect(worker.taskRole.friendlyUniqueId).toBe("task");
    expect(container).toEqual({
      name: "worker",
      image: "example/worker:1.0",
      essential: true,
      environment: [{ name: "SQS_QUEUE_URL", value: SHARED_ENVIRONMENT.SQS_QUEUE_URL }],
      secrets: [],
      logConfiguration: awslogs("worker", REGION),
    });
    for (const absent of OPTIONAL_TASK_ARGUMENTS) expect(taskDefinition[absent], absent).toBeUndefined();
    expect(service.lifecycle).toBeUndefined();
  });

  test("makes no role, scaling or alarms, and only the legacy outputs", async () => {
    // WHEN
    const { text, json, worker } = await whenWorker({ operations: false });
    // THEN
    expect(text).not.toHaveResourceWithProperties(IamRole, { name: "demo-worker-task" });
    expect(text).not.toHaveResource(AppautoscalingTarget);
    expect(text).not.toHaveResource(CloudwatchMetricAlarm);
    expect(worker.autoscaling).toBeUndefined();
    expect(worker.alarms).toBeUndefined();
    expect(Object.keys(json.output).sort()).toEqual([
      "worker_log_group_name",
      "worker_service_arn",
      "worker_service_name",
      "worker_task_definition_arn",
    ]);
  });

  test("does not check the operations' settings it does not use", () => {
    // WHEN / THEN
    expect(() =>
      synthWorker({
        operations: false,
        scaling: { minCount: 5, maxCount: 1, backlogPerTask: 0, scaleOutCooldownSeconds: 0, scaleInCooldownSeconds: 0 },
      }),
    ).not.toThrow();
  });
});

describe("tags", () => {
  test("without tags, the service's resources get Component = worker and the role none", async () => {
    // WHEN
    const { json, service, taskDefinition } = await whenWorker();
    // THEN
    for (const tags of [service.tags, taskDefinition.tags, block(json, CloudwatchLogGroup, "worker").tags]) {
      expect(tags).toEqual({ Component: "worker" });
    }
    expect(block(json, AppautoscalingTarget, "worker").tags).toEqual({ Component: "worker" });
    expect(block(json, CloudwatchMetricAlarm, "worker_dead_letters").tags).toEqual({ Component: "worker" });
    expect(block(json, IamRole, "worker_task").tags).toBeUndefined();
  });

  test("with tags, every resource gets them, the service's own with Component = worker", async () => {
    // WHEN
    const { json, service } = await whenWorker({ tags: { Project: "demo" } });
    // THEN
    expect(service.tags).toEqual({ Project: "demo", Component: "worker" });
    expect(block(json, CloudwatchMetricAlarm, "worker_scale_from_zero").tags).toEqual({
      Project: "demo",
      Component: "worker",
    });
    expect(block(json, IamRole, "worker_task").tags).toEqual({ Project: "demo" });
  });
});

describe("guards", () => {
  const scaling = {
    minCount: 1,
    maxCount: 4,
    backlogPerTask: 10,
    scaleOutCooldownSeconds: 60,
    scaleInCooldownSeconds: 300,
  };
  test.each<[string, Partial<WorkerServiceProps>, RegExp]>([
    [
      "a minimum above the maximum",
      { scaling: { ...scaling, minCount: 5, maxCount: 2 } },
      /^WorkerService: scaling.minCount \(5\) is above scaling.maxCount \(2\): raise scaling.maxCount or lower scaling.minCount$/,
    ],
    [
      "a backlog per task of 0",
      { scaling: { ...scaling, backlogPerTask: 0 } },
      /^WorkerService: scaling.backlogPerTask is 0: give the visible jobs per task to aim for, above 0$/,
    ],
    [
      "a desired count above the maximum",
      { desiredCount: 9 },
      /^WorkerService: desiredCount \(9\) is outside scaling.minCount to scaling.maxCount \(1 to 4\): give a desiredCount in that range$/,
    ],
    [
      "a video prefix without a slash",
      { videoPrefixes: ["uploads"] },
      /^WorkerTaskRole: videoPrefixes has "uploads": give a key prefix that ends in "\/" without wildcards/,
    ],
    [
      "a storage the task cannot have",
      { ephemeralStorageGib: 10 },
      /^FargateService "worker": ephemeralStorageGib is 10/,
    ],
  ])("rejects %s, naming the props and the fix", (_, props, message) => {
    // THEN
    expect(() => synthWorker(props)).toThrow(message);
  });
});
