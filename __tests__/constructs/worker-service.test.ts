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
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { describe, expect, test } from "vitest";
import { WORKER_ALARMS } from "../../stacks/constructs/worker-alarms.js";
import { SCALE_FROM_ZERO_ALARM } from "../../stacks/constructs/worker-autoscaling.js";
import { WorkerService, type WorkerServiceProps } from "../../stacks/constructs/worker-service.js";
import {
  awslogs,
  CONTRACT_CONTAINER,
  CONTRACT_RUNTIME_PLATFORM,
  contractEnvironment,
  OPTIONAL_SERVICE_ARGUMENTS,
  OPTIONAL_TASK_ARGUMENTS,
} from "./expected.js";
import { ACCOUNT, block, blocks, containersOf, givenStack, REGION, synth } from "./testing.js";

const SHARED_ENVIRONMENT = { SQS_QUEUE_URL: "https://sqs.us-east-2.amazonaws.com/123456789012/jobs" };
const TOPIC = "arn:aws:sns:us-east-2:123456789012:oncall";
const SCALING = {
  minCount: 1,
  maxCount: 4,
  backlogPerTask: 10,
  scaleOutCooldownSeconds: 60,
  scaleInCooldownSeconds: 300,
  scaleFromZeroCooldownSeconds: 600,
};

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
    vpcId: "vpc-0a1b2c3d4e5f60718",
    environmentName: "staging",
    logRetentionDays: 30,
    environment: SHARED_ENVIRONMENT,
    queue,
    bucketName: "videos",
    videoPrefixes: ["uploads/"],
    ephemeralStorageGib: 30,
    scaling: SCALING,
    alarms: { maxMessageAgeSeconds: 1800, failedJobsThreshold: 5, externalTopicArn: TOPIC },
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
      // the roles' task trust policy (givenStack's TaskRoles has no trustedSource: the plain one)
      assume_role_policy: "${data.aws_iam_policy_document.ecs_tasks_assume.json}",
    });
    expect(block(json, IamRolePolicy, "worker_task").policy).toBe("${data.aws_iam_policy_document.worker_task.json}");
    const statements = block(json, DataAwsIamPolicyDocument, "worker_task").statement as { sid: string }[];
    expect(statements.map((s) => s.sid)).toEqual([
      "ConsumeAnalysisJobs",
      "MoveDeadLetters",
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
      environment: [
        { name: "SQS_QUEUE_URL", value: SHARED_ENVIRONMENT.SQS_QUEUE_URL },
        ...contractEnvironment("staging"),
      ],
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
      runtime_platform: CONTRACT_RUNTIME_PLATFORM,
    });
    expect(service).toMatchObject({
      lifecycle: { ignore_changes: ["desired_count"] },
      deployment_circuit_breaker: { enable: true, rollback: true },
    });
    expect(service.load_balancer).toBeUndefined();
  });

  test("waits for steady state, rolls back on the jobs-failing alarm, and fails the apply on a rollback", async () => {
    // WHEN
    const { service } = await whenWorker();
    // THEN
    expect(service).toMatchObject({
      wait_for_steady_state: true,
      alarms: {
        alarm_names: ["${aws_cloudwatch_metric_alarm.worker_jobs_failing.alarm_name}"],
        enable: true,
        rollback: true,
      },
    });
    const { postcondition } = service.lifecycle as { postcondition: { condition: string; error_message: string }[] };
    expect(postcondition).toEqual([
      {
        condition: "${self.task_definition == aws_ecs_task_definition.worker.arn}",
        error_message: expect.stringMatching(/^The worker service does not run the task definition it was given: /),
      },
    ]);
  });

  test("runs in its own security group: no ingress, HTTPS out, in the given VPC", async () => {
    // WHEN
    const { json, service, worker } = await whenWorker();
    // THEN
    expect((service.network_configuration as { security_groups: string[] }).security_groups).toEqual([
      "${aws_security_group.worker.id}",
    ]);
    const group = block(json, SecurityGroup, "worker");
    expect(group).toMatchObject({ name: "demo-worker", vpc_id: "vpc-0a1b2c3d4e5f60718", ingress: [] });
    expect(group.egress).toEqual([
      expect.objectContaining({ from_port: 443, to_port: 443, protocol: "tcp", cidr_blocks: ["0.0.0.0/0"] }),
    ]);
    expect(worker.securityGroup?.friendlyUniqueId).toBe("worker");
    expect(json.output.worker_security_group_id.value).toBe("${aws_security_group.worker.id}");
  });

  test("grants its role the given KMS keys through S3 and SQS; none without keys", async () => {
    // GIVEN
    const key = "arn:aws:kms:us-east-2:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    // WHEN
    const withKeys = await whenWorker({ kmsKeyArns: [key] });
    const without = await whenWorker();
    // THEN
    expect(block(withKeys.json, IamRolePolicy, "worker_task_kms")).toMatchObject({
      role: "${aws_iam_role.worker_task.id}",
      policy: "${data.aws_iam_policy_document.worker_task_kms.json}",
    });
    expect(block(withKeys.json, DataAwsIamPolicyDocument, "worker_task_kms").statement).toEqual([
      expect.objectContaining({ actions: ["kms:Decrypt", "kms:GenerateDataKey"], resources: [key] }),
    ]);
    expect(without.json.resource.aws_iam_role_policy?.worker_task_kms).toBeUndefined();
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
        scaleFromZeroCooldownSeconds: 900,
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
    expect(text).toHaveResourceWithProperties(AppautoscalingPolicy, {
      name: "demo-worker-scale-from-zero",
      step_scaling_policy_configuration: expect.objectContaining({ cooldown: 900 }),
    });
  });

  test("makes every alarm of WORKER_ALARMS and the scale-from-zero alarm, the pages notifying the given topic", async () => {
    // WHEN
    const { json } = await whenWorker();
    // THEN
    const alarms = blocks(json, CloudwatchMetricAlarm);
    expect(Object.keys(alarms).sort()).toEqual(ALARM_KEYS.map((key) => `worker_${key}`).sort());
    for (const { key } of WORKER_ALARMS) {
      expect(alarms[`worker_${key}`], key).toMatchObject({ alarm_actions: [TOPIC], ok_actions: [TOPIC] });
    }
    expect(alarms.worker_scale_from_zero.alarm_actions).toEqual([
      "${aws_appautoscaling_policy.worker_scale_from_zero.arn}",
    ]);
    // an outside topic: no topic or key of its own
    expect(json.resource.aws_sns_topic).toBeUndefined();
    expect(json.resource.aws_kms_key).toBeUndefined();
    expect(json.output.worker_alarm_topic_arn.value).toBe(TOPIC);
  });

  test("without an outside topic the pages notify the stack's own encrypted topic, and read this environment's metrics", async () => {
    // WHEN
    const { json } = await whenWorker({
      alarms: {
        maxMessageAgeSeconds: 600,
        failedJobsThreshold: 0,
        subscriptions: [{ protocol: "email", endpoint: "oncall@example.com" }],
      },
    });
    // THEN
    expect(block(json, SnsTopic, "worker_alarms")).toMatchObject({
      name: "demo-worker-alarms",
      kms_master_key_id: "${aws_kms_key.worker_alarms.arn}",
    });
    expect(block(json, KmsKey, "worker_alarms")).toMatchObject({ enable_key_rotation: true });
    const alarms = blocks(json, CloudwatchMetricAlarm);
    expect(alarms.worker_dead_letters).toMatchObject({
      alarm_actions: ["${aws_sns_topic.worker_alarms.arn}"],
      ok_actions: ["${aws_sns_topic.worker_alarms.arn}"],
    });
    expect(alarms.worker_queue_age.threshold).toBe(600);
    expect(alarms.worker_jobs_failing).toMatchObject({
      threshold: 0,
      dimensions: { Service: "worker", Environment: "staging" },
    });
  });

  test("outputs the legacy worker outputs, its role, its scaling resource and its alarm names by key", async () => {
    // WHEN
    const { json } = await whenWorker();
    // THEN
    expect(Object.keys(json.output).sort()).toEqual([
      "worker_alarm_names",
      "worker_alarm_topic_arn",
      "worker_autoscaling_resource_id",
      "worker_log_group_name",
      "worker_security_group_id",
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
    for (const absent of OPTIONAL_SERVICE_ARGUMENTS) expect(service[absent], absent).toBeUndefined();
    expect((service.network_configuration as { security_groups: string[] }).security_groups).toEqual([
      "${aws_security_group.tasks.id}",
    ]);
  });

  test("makes no role, scaling or alarms, and only the legacy outputs", async () => {
    // WHEN
    const { text, json, worker } = await whenWorker({ operations: false });
    // THEN
    expect(text).not.toHaveResourceWithProperties(IamRole, { name: "demo-worker-task" });
    expect(text).not.toHaveResource(AppautoscalingTarget);
    expect(text).not.toHaveResource(CloudwatchMetricAlarm);
    expect(text).not.toHaveResource(SnsTopic);
    expect(text).not.toHaveResourceWithProperties(SecurityGroup, { name: "demo-worker" });
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
        scaling: { ...SCALING, minCount: 5, maxCount: 1, backlogPerTask: 0, scaleFromZeroCooldownSeconds: 0 },
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
  const scaling = SCALING;
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
      "a scale-from-zero cooldown shorter than a task's start",
      { scaling: { ...scaling, scaleFromZeroCooldownSeconds: 60 } },
      /^WorkerService: scaling.scaleFromZeroCooldownSeconds \(60\) is below a task's worst-case start \(390 s\): give at least 390/,
    ],
    [
      "subscriptions with an outside topic",
      {
        alarms: {
          maxMessageAgeSeconds: 600,
          failedJobsThreshold: 5,
          externalTopicArn: TOPIC,
          subscriptions: [{ protocol: "email", endpoint: "oncall@example.com" }],
        },
      },
      /^AlarmTopic: subscriptions are for the stack's own topic, and externalTopicArn names another/,
    ],
    [
      "a KMS alias instead of a key ARN",
      { kmsKeyArns: ["alias/videos"] },
      /^KmsKeyAccess: keyArns has "alias\/videos": give a KMS key ARN/,
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
