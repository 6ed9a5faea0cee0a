/**
 * FargateService: a log group, a task definition with one container, and a
 * service. Each optional prop off (its default) and on; the guards.
 */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { describe, expect, test } from "vitest";
import {
  FargateService,
  type FargateServiceProps,
  HEALTH_CHECK_DEFAULTS,
} from "../../stacks/constructs/fargate-service.js";
import { awslogs, OPTIONAL_SERVICE_ARGUMENTS, OPTIONAL_TASK_ARGUMENTS } from "./expected.js";
import { block, containersOf, givenStack, REGION, synth } from "./testing.js";

/** GIVEN a stack with a cluster, roles and a security group; WHEN a service is added with `props`. */
function synthService(props: Partial<FargateServiceProps> = {}) {
  const { stack, cluster, roles, securityGroup } = givenStack();
  const service = new FargateService(stack, "api", {
    name: "api",
    namePrefix: "demo",
    cluster,
    image: "example/api:1.0",
    cpu: 256,
    memory: 512,
    desiredCount: 2,
    executionRole: roles.executionRole,
    taskRole: roles.taskRole,
    subnetIds: ["subnet-0aa11bb22cc33dd44"],
    securityGroups: [securityGroup],
    region: REGION,
    logRetentionDays: 14,
    ...props,
  });
  const { text, json } = synth(stack);
  const taskDefinition = block(json, EcsTaskDefinition, "api");
  return { service, text, json, taskDefinition, ecsService: block(json, EcsService, "api") };
}

/** synthService, and the one container of its task definition, decoded. */
async function whenService(props: Parameters<typeof synthService>[0] = {}) {
  const synthesized = synthService(props);
  const [container] = await containersOf(synthesized.taskDefinition);
  return { ...synthesized, container };
}

describe("with the required props only", () => {
  test("names the log group, task family and service after the prefix and the name, at pinned addresses", async () => {
    // WHEN
    const { text } = await whenService();
    // THEN
    expect(text).toHaveResourceWithProperties(CloudwatchLogGroup, { name: "/demo/api", retention_in_days: 14 });
    expect(text).toHaveResourceWithProperties(EcsTaskDefinition, {
      family: "demo-api",
      cpu: 256,
      memory: 512,
      network_mode: "awsvpc",
      requires_compatibilities: ["FARGATE"],
      execution_role_arn: "${aws_iam_role.task_execution.arn}",
      task_role_arn: "${aws_iam_role.task.arn}",
    });
    expect(text).toHaveResourceWithProperties(EcsService, {
      name: "demo-api-service",
      cluster: "${aws_ecs_cluster.cluster.id}",
      task_definition: "${aws_ecs_task_definition.api.arn}",
      desired_count: 2,
      launch_type: "FARGATE",
      propagate_tags: "SERVICE",
    });
  });

  test("runs in private subnets without public IP, with a rollback circuit breaker, no load balancer", async () => {
    // WHEN
    const { ecsService } = await whenService();
    // THEN
    expect(ecsService).toMatchObject({
      network_configuration: {
        subnets: ["subnet-0aa11bb22cc33dd44"],
        security_groups: ["${aws_security_group.tasks.id}"],
        assign_public_ip: false,
      },
      deployment_circuit_breaker: { enable: true, rollback: true },
    });
    expect(ecsService.load_balancer).toBeUndefined();
    expect(ecsService.health_check_grace_period_seconds).toBeUndefined();
    for (const absent of OPTIONAL_SERVICE_ARGUMENTS) expect(ecsService[absent], absent).toBeUndefined();
  });

  test("writes one essential container that logs to its log group, and nothing optional", async () => {
    // WHEN
    const { container, taskDefinition } = await whenService();
    // THEN
    expect(container).toEqual({
      name: "api",
      image: "example/api:1.0",
      essential: true,
      environment: [],
      secrets: [],
      logConfiguration: awslogs("api", REGION),
    });
    for (const absent of OPTIONAL_TASK_ARGUMENTS) expect(taskDefinition[absent], absent).toBeUndefined();
  });

  test("tags nothing", async () => {
    // WHEN
    const { ecsService, taskDefinition, json } = await whenService();
    // THEN
    expect([ecsService.tags, taskDefinition.tags, block(json, CloudwatchLogGroup, "api").tags]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe("each optional prop", () => {
  test("environment and secrets become the container's variables, in order", async () => {
    // WHEN
    const { container } = await whenService({
      environment: { B: "2", A: "1" },
      secrets: { DATABASE_URL: "arn:aws:secretsmanager:us-east-2:123456789012:secret:db" },
    });
    // THEN
    expect(container.environment).toEqual([
      { name: "B", value: "2" },
      { name: "A", value: "1" },
    ]);
    expect(container.secrets).toEqual([
      { name: "DATABASE_URL", valueFrom: "arn:aws:secretsmanager:us-east-2:123456789012:secret:db" },
    ]);
  });

  test("containerPort alone maps the port, without a load balancer", async () => {
    // WHEN
    const { container, ecsService } = await whenService({ containerPort: 8080 });
    // THEN
    expect(container.portMappings).toEqual([{ containerPort: 8080, protocol: "tcp" }]);
    expect(ecsService.load_balancer).toBeUndefined();
  });

  test("targetGroupArn with containerPort and a grace period registers the container with the target group", async () => {
    // WHEN
    const arn = "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/api/0123456789abcdef";
    const { ecsService } = await whenService({
      containerPort: 8080,
      targetGroupArn: arn,
      healthCheckGracePeriodSeconds: 60,
    });
    // THEN
    expect(ecsService).toMatchObject({
      load_balancer: [{ target_group_arn: arn, container_name: "api", container_port: 8080 }],
      health_check_grace_period_seconds: 60,
    });
  });

  test("assignPublicIp and circuitBreakerRollback change the service", async () => {
    // WHEN
    const { ecsService } = await whenService({ assignPublicIp: true, circuitBreakerRollback: false });
    // THEN
    expect(ecsService).toMatchObject({
      network_configuration: { assign_public_ip: true },
      deployment_circuit_breaker: { enable: true, rollback: false },
    });
  });

  test("stopTimeoutSeconds, initProcessEnabled and readonlyRootFilesystem go into the container", async () => {
    // WHEN
    const { container } = await whenService({
      stopTimeoutSeconds: 90,
      initProcessEnabled: true,
      readonlyRootFilesystem: true,
    });
    // THEN
    expect(container).toMatchObject({
      stopTimeout: 90,
      linuxParameters: { initProcessEnabled: true },
      readonlyRootFilesystem: true,
    });
  });

  test("false for initProcessEnabled and readonlyRootFilesystem writes nothing", async () => {
    // WHEN
    const { container } = await whenService({ initProcessEnabled: false, readonlyRootFilesystem: false });
    // THEN
    expect(container.linuxParameters).toBeUndefined();
    expect(container.readonlyRootFilesystem).toBeUndefined();
  });

  test("scratchVolumes declares task volumes and mounts them writable", async () => {
    // WHEN
    const { container, taskDefinition } = await whenService({ scratchVolumes: { scratch: "/scratch", tmp: "/tmp" } });
    // THEN
    expect(taskDefinition.volume).toEqual([{ name: "scratch" }, { name: "tmp" }]);
    expect(container.mountPoints).toEqual([
      { sourceVolume: "scratch", containerPath: "/scratch", readOnly: false },
      { sourceVolume: "tmp", containerPath: "/tmp", readOnly: false },
    ]);
  });

  test("ephemeralStorageGib sizes the task's storage", async () => {
    // WHEN
    const { taskDefinition } = await whenService({ ephemeralStorageGib: 50 });
    // THEN
    expect(taskDefinition.ephemeral_storage).toEqual({ size_in_gib: 50 });
  });

  test("healthCheck with only a command gets the default timings", async () => {
    // WHEN
    const { container } = await whenService({ healthCheck: { command: ["CMD", "/bin/true"] } });
    // THEN
    expect(container.healthCheck).toEqual({
      command: ["CMD", "/bin/true"],
      interval: HEALTH_CHECK_DEFAULTS.intervalSeconds,
      timeout: HEALTH_CHECK_DEFAULTS.timeoutSeconds,
      retries: HEALTH_CHECK_DEFAULTS.retries,
      startPeriod: HEALTH_CHECK_DEFAULTS.startPeriodSeconds,
    });
    expect(HEALTH_CHECK_DEFAULTS).toEqual({
      intervalSeconds: 30,
      timeoutSeconds: 5,
      retries: 3,
      startPeriodSeconds: 60,
    });
  });

  test("healthCheck timings override the defaults", async () => {
    // WHEN
    const { container } = await whenService({
      healthCheck: {
        command: ["CMD", "/bin/true"],
        intervalSeconds: 10,
        timeoutSeconds: 2,
        retries: 5,
        startPeriodSeconds: 0,
      },
    });
    // THEN
    expect(container.healthCheck).toEqual({
      command: ["CMD", "/bin/true"],
      interval: 10,
      timeout: 2,
      retries: 5,
      startPeriod: 0,
    });
  });

  test("autoscaled leaves the task count to the autoscaler after creation", async () => {
    // WHEN
    const { ecsService } = await whenService({ autoscaled: true });
    // THEN
    expect(ecsService).toMatchObject({ desired_count: 2, lifecycle: { ignore_changes: ["desired_count"] } });
  });

  test("keepRevisions keeps old task definition revisions and makes the new one first", async () => {
    // WHEN
    const { taskDefinition } = await whenService({ keepRevisions: true });
    // THEN
    expect(taskDefinition).toMatchObject({ skip_destroy: true, lifecycle: { create_before_destroy: true } });
  });

  test("runtimePlatform declares the image's operating system and architecture", async () => {
    // WHEN
    const { taskDefinition } = await whenService({
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "ARM64" },
    });
    // THEN
    expect(taskDefinition.runtime_platform).toEqual({ operating_system_family: "LINUX", cpu_architecture: "ARM64" });
  });

  test("waitForSteadyState makes Terraform wait; failOnRollback adds a postcondition on the task definition", async () => {
    // WHEN
    const waiting = await whenService({ waitForSteadyState: true });
    const failing = await whenService({ waitForSteadyState: true, failOnRollback: true, autoscaled: true });
    // THEN
    expect(waiting.ecsService.wait_for_steady_state).toBe(true);
    expect(waiting.ecsService.lifecycle).toBeUndefined();
    expect(failing.ecsService.lifecycle).toEqual({
      ignore_changes: ["desired_count"],
      postcondition: [
        {
          condition: "${self.task_definition == aws_ecs_task_definition.api.arn}",
          error_message: expect.stringContaining("The api service does not run the task definition it was given"),
        },
      ],
    });
  });

  test("tags go on the log group, the task definition and the service", async () => {
    // WHEN
    const { json, taskDefinition, ecsService } = await whenService({ tags: { Team: "video" } });
    // THEN
    for (const tags of [block(json, CloudwatchLogGroup, "api").tags, taskDefinition.tags, ecsService.tags]) {
      expect(tags).toEqual({ Team: "video" });
    }
  });

  test("the container property is what the task definition holds", async () => {
    // WHEN
    const { service, container } = await whenService({ environment: { A: "1" }, containerPort: 80 });
    // THEN
    expect(container).toMatchObject({ name: service.container.name, environment: service.container.environment });
  });
});

describe("guards", () => {
  test.each<[string, Partial<FargateServiceProps>, RegExp]>([
    [
      "targetGroupArn without containerPort",
      { targetGroupArn: "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/api/0123456789abcdef" },
      /^FargateService "api": targetGroupArn needs containerPort: set containerPort to the port the target group sends to$/,
    ],
    [
      "a grace period without a load balancer",
      { healthCheckGracePeriodSeconds: 60 },
      /healthCheckGracePeriodSeconds applies to load balancer health checks only: set targetGroupArn, or drop/,
    ],
    [
      "a stop timeout above Fargate's 120 s",
      { stopTimeoutSeconds: 300 },
      /stopTimeoutSeconds is 300: Fargate allows 2 to 120 seconds/,
    ],
    ["a stop timeout below 2 s", { stopTimeoutSeconds: 1 }, /stopTimeoutSeconds is 1/],
    ["storage below 21 GiB", { ephemeralStorageGib: 20 }, /ephemeralStorageGib is 20: Fargate allows 21 to 200 GiB/],
    ["storage above 200 GiB", { ephemeralStorageGib: 500 }, /ephemeralStorageGib is 500/],
    [
      "failOnRollback without waitForSteadyState",
      { failOnRollback: true },
      /^FargateService "api": failOnRollback needs waitForSteadyState: .* set waitForSteadyState: true$/,
    ],
    [
      "a relative scratch path",
      { scratchVolumes: { scratch: "scratch" } },
      /scratchVolumes.scratch is "scratch": give an absolute path in the container, such as "\/scratch"/,
    ],
  ])("rejects %s, naming the props and the fix", (_, props, message) => {
    // THEN
    expect(() => synthService(props)).toThrow(message);
  });

  test("accepts the bounds", () => {
    expect(() => synthService({ stopTimeoutSeconds: 120, ephemeralStorageGib: 21 })).not.toThrow();
    expect(() => synthService({ stopTimeoutSeconds: 2, ephemeralStorageGib: 200 })).not.toThrow();
  });
});
