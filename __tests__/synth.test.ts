import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { LEGACY_BACKEND } from "../stacks/compute-stack.js";
import type { ContainerDefinition } from "../stacks/constructs/container-definition.js";
import { workerAlarmNames } from "../stacks/constructs/worker-alarm-names.js";
import { WORKER_ALARMS } from "../stacks/constructs/worker-alarms.js";
import { SCALE_FROM_ZERO_ALARM } from "../stacks/constructs/worker-autoscaling.js";
import { decodeJsonencode } from "../tools/lib/stack/hcl.js";
import { WORKER_CONTRACT as CONTRACT } from "../worker-src/src/contract.js";
import { awslogs, CONTRACT_CONTAINER, CONTRACT_RUNTIME_PLATFORM, contractEnvironment } from "./constructs/expected.js";
import { LEGACY_MODULE, WORKER_OPERATIONS_RESOURCES } from "./helpers/fixtures.js";
import { configAddresses, type SynthJson, synthCompute } from "./helpers/synth.js";

let json: SynthJson;
/** The legacy-parity synth: the hand-written module's expressions. */
let parity: SynthJson;
/** Each task definition's container definitions, decoded from `jsonencode(...)` once. */
const containers = new Map<string, unknown>();
beforeAll(async () => {
  json = synthCompute().json;
  parity = synthCompute({ workerOperations: false }).json;
  for (const [name, td] of Object.entries(json.resource.aws_ecs_task_definition ?? {})) {
    containers.set(name, await decodeJsonencode(td.container_definitions as string));
  }
});

const resource = (type: string, name: string) => {
  const found = json.resource[type]?.[name];
  if (!found) throw new Error(`${type}.${name} is not in the synth`);
  return found;
};
/** The one container of a service's task definition, decoded from its `jsonencode(...)`. */
const container = (name: string): ContainerDefinition => {
  const decoded = containers.get(name);
  if (!Array.isArray(decoded) || decoded.length !== 1) throw new Error(`${name}: not one container definition`);
  return decoded[0] as ContainerDefinition;
};
const data = (type: string, name: string) => {
  const found = json.data[type]?.[name];
  if (!found) throw new Error(`data.${type}.${name} is not in the synth`);
  return found;
};

describe("state model", () => {
  it("keeps the legacy S3 backend", () => {
    expect(json.terraform.backend).toEqual({
      s3: {
        bucket: "cricksy-ai-terraform-state",
        key: "compute/terraform.tfstate",
        region: "us-east-2",
        dynamodb_table: "cricksy-ai-terraform-locks",
        encrypt: true,
      },
    });
    expect(LEGACY_BACKEND.key).toBe("compute/terraform.tfstate");
  });

  it("pins the AWS provider to the mirrored 5.100.0 and takes its region from var.aws_region", () => {
    expect(json.terraform.required_providers.aws).toEqual({ source: "aws", version: "5.100.0" });
    // 1.9: validations that compare two variables
    expect((json.terraform as Record<string, unknown>).required_version).toBe(">= 1.9.0");
    expect(json.provider.aws).toEqual([{ region: "${var.aws_region}" }]);
  });

  it("declares the legacy input variables with their types, defaults and descriptions", () => {
    const expected: Record<string, { type: string; default?: unknown; description: string }> = {
      aws_region: { type: "string", default: "us-east-2", description: "AWS region for all compute resources" },
      project_name: { type: "string", default: "cricksy-ai", description: "Name prefix for every resource" },
      environment: { type: "string", default: "prod", description: "Deployment environment tag" },
      vpc_id: { type: "string", description: "VPC that the ECS tasks run in" },
      private_subnet_ids: { type: "list(string)", description: "Private subnets for the ECS tasks" },
      alb_security_group_id: {
        type: "string",
        description: "Security group of the public load balancer in front of the backend",
      },
      alb_target_group_arn: { type: "string", description: "Target group that the backend service registers with" },
      backend_image: { type: "string", description: "Container image (repository:tag) of the API backend" },
      worker_image: { type: "string", description: "Container image (repository:tag) of the analysis worker" },
      backend_container_port: { type: "number", default: 8000, description: "Port the backend container listens on" },
      backend_desired_count: { type: "number", default: 2, description: "Number of backend tasks" },
      backend_cpu: { type: "number", default: 512, description: "Backend task CPU units" },
      backend_memory: { type: "number", default: 1024, description: "Backend task memory (MiB)" },
      worker_desired_count: { type: "number", default: 1, description: "Number of worker tasks" },
      worker_cpu: { type: "number", default: 512, description: "Worker task CPU units" },
      worker_memory: { type: "number", default: 1024, description: "Worker task memory (MiB)" },
      videos_bucket_name: { type: "string", description: "S3 bucket holding uploaded videos and analysis results" },
      analysis_queue_name: { type: "string", description: "Name of the SQS queue that carries video analysis jobs" },
      database_url_secret_arn: { type: "string", description: "Secrets Manager ARN of the DATABASE_URL secret" },
      log_retention_days: { type: "number", default: 30, description: "CloudWatch log retention for both services" },
    };
    for (const [name, want] of Object.entries(expected)) {
      const got = json.variable[name];
      expect(got, name).toBeDefined();
      expect({ type: got.type, default: got.default, description: got.description }, name).toEqual({
        type: want.type,
        default: want.default,
        description: want.description,
      });
    }
  });

  it("names every resource and data source of the legacy module exactly as it did, without hash suffixes", () => {
    const legacy = [
      "aws_cloudwatch_log_group.backend",
      "aws_cloudwatch_log_group.worker",
      "aws_ecs_cluster.main",
      "aws_ecs_service.backend",
      "aws_ecs_service.worker",
      "aws_ecs_task_definition.backend",
      "aws_ecs_task_definition.worker",
      "aws_iam_policy.task_s3_sqs",
      "aws_iam_role.task",
      "aws_iam_role.task_execution",
      "aws_iam_role_policy.task_execution_secrets",
      "aws_iam_role_policy_attachment.task_execution",
      "aws_iam_role_policy_attachment.task_s3_sqs",
      "aws_security_group.ecs_tasks",
      "data.aws_caller_identity.current",
      "data.aws_iam_policy_document.ecs_tasks_assume",
      "data.aws_iam_policy_document.task_execution_secrets",
      "data.aws_iam_policy_document.task_s3_sqs",
    ];
    expect(configAddresses(parity)).toEqual(legacy);
    expect(configAddresses(json)).toEqual(
      [
        ...legacy,
        ...WORKER_OPERATIONS_RESOURCES,
        "data.aws_iam_policy_document.ecs_task_role_assume",
        "data.aws_iam_policy_document.task_kms",
        "data.aws_iam_policy_document.worker_alarms_key",
        "data.aws_iam_policy_document.worker_task",
        "data.aws_iam_policy_document.worker_task_kms",
        "data.aws_partition.current",
        "data.aws_sqs_queue.analysis",
        "data.aws_sqs_queue.analysis_dlq",
      ].sort(),
    );
  });

  it("keeps the legacy outputs, names and values", () => {
    const outputs = Object.fromEntries(Object.entries(json.output).map(([name, o]) => [name, o.value]));
    expect(outputs).toMatchObject({
      cluster_name: "${aws_ecs_cluster.main.name}",
      cluster_arn: "${aws_ecs_cluster.main.arn}",
      ecs_tasks_security_group_id: "${aws_security_group.ecs_tasks.id}",
      backend_service_name: "${aws_ecs_service.backend.name}",
      backend_log_group_name: "${aws_cloudwatch_log_group.backend.name}",
      worker_log_group_name: "${aws_cloudwatch_log_group.worker.name}",
      worker_service_name: "${aws_ecs_service.worker.name}",
      worker_service_arn: "${aws_ecs_service.worker.id}",
      worker_task_definition_arn: "${aws_ecs_task_definition.worker.arn}",
    });
    expect(json.output.worker_task_definition_arn.description).toBe(
      "ARN (with revision) of the worker task definition",
    );
  });
});

describe("names and tags", () => {
  it("derives names and common tags from the project and environment", () => {
    for (const synthesized of [json, parity]) {
      expect(synthesized.locals).toMatchObject({
        name: "${var.project_name}",
        common_tags: {
          Project: "${var.project_name}",
          Environment: "${var.environment}",
          ManagedBy: "terraform",
          Module: "compute",
        },
      });
    }
  });

  it("looks the analysis queue and its dead-letter queue up in SQS; legacy parity builds the legacy locals", () => {
    expect(json.locals).toMatchObject({
      analysis_queue_arn: "${data.aws_sqs_queue.analysis.arn}",
      analysis_queue_url: "${data.aws_sqs_queue.analysis.url}",
      analysis_dlq_name: "${data.aws_sqs_queue.analysis_dlq.name}",
    });
    expect(data("aws_sqs_queue", "analysis").name).toBe("${var.analysis_queue_name}");
    expect(data("aws_sqs_queue", "analysis_dlq").name).toBe(
      '${coalesce(var.analysis_dlq_name, endswith(var.analysis_queue_name, ".fifo") ? format("%s-dlq.fifo", trimsuffix(var.analysis_queue_name, ".fifo")) : format("%s-dlq", var.analysis_queue_name))}',
    );
    expect(parity.locals).toMatchObject({
      analysis_queue_arn:
        "arn:aws:sqs:${var.aws_region}:${data.aws_caller_identity.current.account_id}:${var.analysis_queue_name}",
      analysis_queue_url:
        "https://sqs.${var.aws_region}.amazonaws.com/${data.aws_caller_identity.current.account_id}/${var.analysis_queue_name}",
      analysis_dlq_name: '${coalesce(var.analysis_dlq_name, "${var.analysis_queue_name}-dlq")}',
    });
  });

  it("tags shared resources with the common tags and service resources with their component", () => {
    for (const [type, name] of [
      ["aws_ecs_cluster", "main"],
      ["aws_iam_role", "task"],
      ["aws_iam_role", "task_execution"],
      ["aws_iam_policy", "task_s3_sqs"],
      ["aws_security_group", "ecs_tasks"],
    ]) {
      expect(resource(type, name).tags, `${type}.${name}`).toBe("${local.common_tags}");
    }
    for (const component of ["backend", "worker"]) {
      for (const type of ["aws_cloudwatch_log_group", "aws_ecs_task_definition", "aws_ecs_service"]) {
        expect(resource(type, component).tags, `${type}.${component}`).toBe(
          `\${merge(local.common_tags, {"Component" = "${component}"})}`,
        );
      }
    }
  });
});

describe("cluster", () => {
  it("runs with Container Insights", () => {
    expect(resource("aws_ecs_cluster", "main")).toMatchObject({
      name: "${local.name}-cluster",
      setting: [{ name: "containerInsights", value: "enabled" }],
    });
  });
});

describe("IAM", () => {
  it("lets only ECS tasks assume the roles; the task roles only on behalf of this account and region", () => {
    const plainTrust = [
      { actions: ["sts:AssumeRole"], principals: [{ identifiers: ["ecs-tasks.amazonaws.com"], type: "Service" }] },
    ];
    expect(data("aws_iam_policy_document", "ecs_tasks_assume").statement).toEqual(plainTrust);
    expect(data("aws_iam_policy_document", "ecs_task_role_assume").statement).toEqual([
      {
        ...plainTrust[0],
        condition: [
          {
            test: "StringEquals",
            variable: "aws:SourceAccount",
            values: ["${data.aws_caller_identity.current.account_id}"],
          },
          {
            test: "ArnLike",
            variable: "aws:SourceArn",
            values: [
              "arn:${data.aws_partition.current.partition}:ecs:${var.aws_region}:${data.aws_caller_identity.current.account_id}:*",
            ],
          },
        ],
      },
    ]);
    for (const [name, roleName, trust] of [
      ["task_execution", "${local.name}-task-execution", "ecs_tasks_assume"],
      ["task", "${local.name}-task", "ecs_task_role_assume"],
      ["worker_task", "${local.name}-worker-task", "ecs_task_role_assume"],
    ]) {
      expect(resource("aws_iam_role", name)).toMatchObject({
        name: roleName,
        assume_role_policy: `\${data.aws_iam_policy_document.${trust}.json}`,
      });
    }
    // legacy parity: one plain trust policy for both roles, as the hand-written module
    expect(parity.data.aws_iam_policy_document.ecs_tasks_assume.statement).toEqual(plainTrust);
    expect(parity.resource.aws_iam_role.task.assume_role_policy).toBe(
      "${data.aws_iam_policy_document.ecs_tasks_assume.json}",
    );
  });

  it("gives the execution role the ECS managed policy and read access to the DATABASE_URL secret only", () => {
    expect(resource("aws_iam_role_policy_attachment", "task_execution")).toMatchObject({
      role: "${aws_iam_role.task_execution.name}",
      policy_arn:
        "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    });
    expect(parity.resource.aws_iam_role_policy_attachment.task_execution.policy_arn).toBe(
      "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    );
    expect(data("aws_iam_policy_document", "task_execution_secrets").statement).toEqual([
      {
        sid: "ReadDatabaseUrl",
        actions: ["secretsmanager:GetSecretValue"],
        resources: ["${var.database_url_secret_arn}"],
      },
    ]);
    expect(resource("aws_iam_role_policy", "task_execution_secrets")).toMatchObject({
      name: "${local.name}-task-execution-secrets",
      role: "${aws_iam_role.task_execution.id}",
      policy: "${data.aws_iam_policy_document.task_execution_secrets.json}",
    });
  });

  it("lets tasks use the videos bucket and the analysis queue", () => {
    const bucket = "arn:${data.aws_partition.current.partition}:s3:::${var.videos_bucket_name}";
    expect(data("aws_iam_policy_document", "task_s3_sqs").statement).toEqual([
      { sid: "VideoObjects", actions: ["s3:GetObject", "s3:PutObject"], resources: [`${bucket}/*`] },
      { sid: "VideoBucket", actions: ["s3:ListBucket"], resources: [bucket] },
      {
        sid: "AnalysisQueue",
        actions: [
          "sqs:SendMessage",
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:ChangeMessageVisibility",
          "sqs:GetQueueAttributes",
          "sqs:GetQueueUrl",
        ],
        resources: ["${local.analysis_queue_arn}"],
      },
    ]);
    expect(
      (parity.data.aws_iam_policy_document.task_s3_sqs.statement as { resources: string[] }[])[0].resources,
    ).toEqual(["arn:aws:s3:::${var.videos_bucket_name}/*"]);
    expect(resource("aws_iam_policy", "task_s3_sqs")).toMatchObject({
      name: "${local.name}-task-s3-sqs",
      description: "Lets ${local.name} tasks read and write videos in S3 and use the analysis queue",
      policy: "${data.aws_iam_policy_document.task_s3_sqs.json}",
    });
    expect(resource("aws_iam_role_policy_attachment", "task_s3_sqs")).toMatchObject({
      role: "${aws_iam_role.task.name}",
      policy_arn: "${aws_iam_policy.task_s3_sqs.arn}",
    });
  });
});

describe("network", () => {
  it("gives the worker its own group: no ingress, HTTPS out, in the VPC", () => {
    const sg = resource("aws_security_group", "worker");
    expect(sg).toMatchObject({ name: "${local.name}-worker", vpc_id: "${var.vpc_id}", ingress: [] });
    expect(sg.egress).toEqual([
      expect.objectContaining({ from_port: 443, to_port: 443, protocol: "tcp", cidr_blocks: ["0.0.0.0/0"] }),
    ]);
    expect(json.output.worker_security_group_id.value).toBe("${aws_security_group.worker.id}");
    // legacy parity: the worker shares the tasks' group, as in the hand-written module
    expect(
      (parity.resource.aws_ecs_service.worker.network_configuration as { security_groups: string[] }).security_groups,
    ).toEqual(["${aws_security_group.ecs_tasks.id}"]);
  });

  it("lets only the load balancer reach the backend port, and everything out", () => {
    const sg = resource("aws_security_group", "ecs_tasks");
    expect(sg).toMatchObject({ name: "${local.name}-ecs-tasks", vpc_id: "${var.vpc_id}" });
    expect(sg.ingress).toEqual([
      expect.objectContaining({
        from_port: "${var.backend_container_port}",
        to_port: "${var.backend_container_port}",
        protocol: "tcp",
        security_groups: ["${var.alb_security_group_id}"],
        cidr_blocks: null,
      }),
    ]);
    expect(sg.egress).toEqual([
      expect.objectContaining({ from_port: 0, to_port: 0, protocol: "-1", cidr_blocks: ["0.0.0.0/0"] }),
    ]);
  });
});

describe.each(["backend", "worker"])("%s service", (name) => {
  it("logs to its own log group with the configured retention", () => {
    expect(resource("aws_cloudwatch_log_group", name)).toMatchObject({
      name: `/\${local.name}/${name}`,
      retention_in_days: "${var.log_retention_days}",
    });
  });

  it("has a Fargate task definition with its size, roles, image, variables, secret and awslogs", () => {
    const td = resource("aws_ecs_task_definition", name);
    expect(td).toMatchObject({
      family: `\${local.name}-${name}`,
      requires_compatibilities: ["FARGATE"],
      network_mode: "awsvpc",
      cpu: `\${var.${name}_cpu}`,
      memory: `\${var.${name}_memory}`,
      execution_role_arn: "${aws_iam_role.task_execution.arn}",
      task_role_arn: name === "worker" ? "${aws_iam_role.worker_task.arn}" : "${aws_iam_role.task.arn}",
    });
    expect(container(name)).toMatchObject({
      name,
      image: `\${var.${name}_image}`,
      essential: true,
      secrets: [{ name: "DATABASE_URL", valueFrom: "${var.database_url_secret_arn}" }],
      logConfiguration: awslogs(name, "${var.aws_region}"),
    });
    // The variables both services get come first, in the legacy order.
    expect(container(name).environment.slice(0, 3)).toEqual([
      { name: "AWS_REGION", value: "${var.aws_region}" },
      { name: "S3_BUCKET", value: "${var.videos_bucket_name}" },
      { name: "SQS_QUEUE_URL", value: "${local.analysis_queue_url}" },
    ]);
  });

  it("runs in private subnets without public IP, with a rollback circuit breaker", () => {
    expect(resource("aws_ecs_service", name)).toMatchObject({
      name: `\${local.name}-${name}-service`,
      cluster: "${aws_ecs_cluster.main.id}",
      task_definition: `\${aws_ecs_task_definition.${name}.arn}`,
      desired_count: `\${var.${name}_desired_count}`,
      launch_type: "FARGATE",
      propagate_tags: "SERVICE",
      network_configuration: {
        assign_public_ip: false,
        subnets: "${var.private_subnet_ids}",
        security_groups: [name === "worker" ? "${aws_security_group.worker.id}" : "${aws_security_group.ecs_tasks.id}"],
      },
      deployment_circuit_breaker: { enable: true, rollback: true },
    });
  });
});

describe("backend specifics", () => {
  it("registers with the load balancer's target group on its port, with a health check grace period", () => {
    expect(resource("aws_ecs_service", "backend")).toMatchObject({
      health_check_grace_period_seconds: 60,
      load_balancer: [
        {
          container_name: "backend",
          container_port: "${var.backend_container_port}",
          target_group_arn: "${var.alb_target_group_arn}",
        },
      ],
    });
    expect(container("backend").portMappings).toEqual([
      { containerPort: "${var.backend_container_port}", protocol: "tcp" },
    ]);
  });

  it("gives the worker no load balancer and no port", () => {
    expect(resource("aws_ecs_service", "worker").load_balancer).toBeUndefined();
    expect(container("worker").portMappings).toBeUndefined();
  });
});

describe("worker operations", () => {
  it("gives the worker its own task role, with least privilege", () => {
    expect(resource("aws_iam_role", "worker_task")).toMatchObject({
      name: "${local.name}-worker-task",
      assume_role_policy: "${data.aws_iam_policy_document.ecs_task_role_assume.json}",
    });
    expect(resource("aws_iam_role_policy", "worker_task")).toMatchObject({
      role: "${aws_iam_role.worker_task.id}",
      policy: "${data.aws_iam_policy_document.worker_task.json}",
    });
    const statements = data("aws_iam_policy_document", "worker_task").statement as Record<string, unknown>[];
    const bucket = "arn:${data.aws_partition.current.partition}:s3:::${var.videos_bucket_name}";
    expect(statements).toEqual([
      {
        sid: "ConsumeAnalysisJobs",
        actions: [
          "sqs:ReceiveMessage",
          "sqs:ChangeMessageVisibility",
          "sqs:DeleteMessage",
          "sqs:SendMessage",
          "sqs:GetQueueAttributes",
        ],
        resources: ["${local.analysis_queue_arn}"],
      },
      { sid: "MoveDeadLetters", actions: ["sqs:SendMessage"], resources: ["${data.aws_sqs_queue.analysis_dlq.arn}"] },
      {
        sid: "ReadUploadedVideos",
        actions: ["s3:GetObject"],
        resources: `\${formatlist("${bucket}/%s*", var.worker_video_prefixes)}`,
      },
      {
        sid: "WriteAnalysisResults",
        actions: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
        resources: [`${bucket}/analysis/*`],
      },
      { sid: "TellMissingKeysFromDenied", actions: ["s3:ListBucket"], resources: [bucket] },
      {
        sid: "ScaleInProtection",
        actions: ["ecs:UpdateTaskProtection"],
        resources: [
          "arn:${data.aws_partition.current.partition}:ecs:${var.aws_region}:${data.aws_caller_identity.current.account_id}:task/${aws_ecs_cluster.main.name}/*",
        ],
      },
    ]);
    for (const statement of statements) {
      for (const action of statement.actions as string[]) expect(action, "no wildcard actions").not.toContain("*");
    }
    // The backend keeps the shared role and its policy as they were.
    expect(resource("aws_ecs_task_definition", "backend").task_role_arn).toBe("${aws_iam_role.task.arn}");
    expect(resource("aws_iam_role_policy_attachment", "task_s3_sqs").role).toBe("${aws_iam_role.task.name}");
  });

  it("deploys gracefully: stopTimeout 120 above the drain, init, read-only root with scratch volumes, health check", () => {
    const td = resource("aws_ecs_task_definition", "worker");
    expect(container("worker")).toMatchObject(CONTRACT_CONTAINER);
    expect(container("worker").environment.slice(3)).toEqual(contractEnvironment("${var.environment}"));
    expect(CONTRACT.stop.shutdownGraceS).toBeLessThan(CONTRACT.stop.stopTimeoutS);
    expect(td).toMatchObject({
      volume: [{ name: "scratch" }],
      ephemeral_storage: { size_in_gib: "${var.worker_ephemeral_storage_gib}" },
      skip_destroy: true,
      lifecycle: { create_before_destroy: true },
      runtime_platform: CONTRACT_RUNTIME_PLATFORM,
    });
    expect(resource("aws_ecs_service", "worker")).toMatchObject({
      lifecycle: {
        ignore_changes: ["desired_count"],
        postcondition: [
          expect.objectContaining({ condition: "${self.task_definition == aws_ecs_task_definition.worker.arn}" }),
        ],
      },
      deployment_circuit_breaker: { enable: true, rollback: true },
      wait_for_steady_state: true,
      alarms: {
        alarm_names: ["${aws_cloudwatch_metric_alarm.worker_jobs_failing.alarm_name}"],
        enable: true,
        rollback: true,
      },
    });
    // The backend keeps its task definition (Fargate's default platform, LINUX/X86_64) and service settings.
    expect(resource("aws_ecs_task_definition", "backend").runtime_platform).toBeUndefined();
    expect(resource("aws_ecs_service", "backend").wait_for_steady_state).toBeUndefined();
    // The backend is unchanged by all this: its container has the shared variables and nothing more.
    expect(container("backend")).not.toHaveProperty("stopTimeout");
    expect(container("backend").environment).toHaveLength(3);
    expect(resource("aws_ecs_service", "backend").lifecycle).toBeUndefined();
  });

  it("scales on visible messages per running task, and from zero with a step policy", () => {
    expect(resource("aws_appautoscaling_target", "worker")).toMatchObject({
      service_namespace: "ecs",
      scalable_dimension: "ecs:service:DesiredCount",
      resource_id: "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.worker.name}",
      min_capacity: "${var.worker_min_count}",
      max_capacity: "${var.worker_max_count}",
    });
    const tracking = resource("aws_appautoscaling_policy", "worker_backlog");
    expect(tracking).toMatchObject({
      policy_type: "TargetTrackingScaling",
      resource_id: "${aws_appautoscaling_target.worker.resource_id}",
      target_tracking_scaling_policy_configuration: {
        target_value: "${var.worker_backlog_per_task}",
        scale_out_cooldown: "${var.worker_scale_out_cooldown_seconds}",
        scale_in_cooldown: "${var.worker_scale_in_cooldown_seconds}",
      },
    });
    const metrics = (
      tracking.target_tracking_scaling_policy_configuration as {
        customized_metric_specification: { metrics: Record<string, unknown>[] };
      }
    ).customized_metric_specification.metrics;
    expect(
      metrics.map((m) => [
        m.id,
        m.expression ?? (m.metric_stat as { metric: { metric_name: string } }).metric.metric_name,
        m.return_data,
      ]),
    ).toEqual([
      ["visible", "ApproximateNumberOfMessagesVisible", false],
      ["running", "RunningTaskCount", false],
      ["backlog_per_task", "visible / running", true],
    ]);
    expect(resource("aws_appautoscaling_policy", "worker_scale_from_zero")).toMatchObject({
      policy_type: "StepScaling",
      step_scaling_policy_configuration: {
        adjustment_type: "ChangeInCapacity",
        step_adjustment: [{ metric_interval_lower_bound: "0", scaling_adjustment: 1 }],
      },
    });
    const fromZero = resource("aws_cloudwatch_metric_alarm", "worker_scale_from_zero");
    expect(fromZero.alarm_actions).toEqual(["${aws_appautoscaling_policy.worker_scale_from_zero.arn}"]);
    expect(fromZero).toMatchObject({ evaluation_periods: 2, datapoints_to_alarm: 2 });
    expect((fromZero.metric_query as { expression?: string }[]).map((q) => q.expression).filter(Boolean)).toEqual([
      "IF(visible > 0 AND desired == 0, 1, 0)",
    ]);
    expect(resource("aws_appautoscaling_policy", "worker_scale_from_zero")).toMatchObject({
      step_scaling_policy_configuration: { cooldown: "${var.worker_scale_from_zero_cooldown_seconds}" },
    });
  });

  it("makes each alarm of WORKER_ALARMS, notifying the outside topic or the stack's own, tagged as the worker's", () => {
    const actions = "${concat(compact([var.alarm_sns_topic_arn]), aws_sns_topic.worker_alarms[*].arn)}";
    for (const { key, description } of WORKER_ALARMS) {
      const { logicalId, alarmName } = workerAlarmNames("${local.name}", key);
      expect(resource("aws_cloudwatch_metric_alarm", logicalId), key).toMatchObject({
        alarm_name: alarmName,
        alarm_description: description,
        alarm_actions: actions,
        ok_actions: actions,
        treat_missing_data: "notBreaching",
        tags: '${merge(local.common_tags, {"Component" = "worker"})}',
      });
    }
  });

  it("alarms on dead letters, old jobs, failing jobs and backlog without workers, from the inputs", () => {
    const alarm = (name: string) => resource("aws_cloudwatch_metric_alarm", name);
    expect(alarm("worker_dead_letters")).toMatchObject({
      namespace: "AWS/SQS",
      metric_name: "ApproximateNumberOfMessagesVisible",
      // the dead-letter queue's name as SQS knows it (looked up)
      dimensions: { QueueName: "${local.analysis_dlq_name}" },
      comparison_operator: "GreaterThanThreshold",
      threshold: 0,
    });
    expect(alarm("worker_queue_age")).toMatchObject({
      metric_name: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: "${var.analysis_queue_name}" },
      threshold: "${var.worker_max_message_age_seconds}",
    });
    expect(alarm("worker_jobs_failing")).toMatchObject({
      namespace: CONTRACT.metrics.namespace,
      metric_name: CONTRACT.metrics.outcomes.failed,
      dimensions: {
        [CONTRACT.metrics.serviceDimension.name]: CONTRACT.metrics.serviceDimension.value,
        [CONTRACT.metrics.environmentDimension.name]: "${var.environment}",
      },
      statistic: "Sum",
      period: 900,
      threshold: "${var.worker_failed_jobs_threshold}",
    });
    expect(alarm("worker_backlog_without_workers")).toMatchObject({
      evaluation_periods: 10,
      datapoints_to_alarm: 10,
    });
  });

  it("delivers alarms to its own KMS-encrypted topic unless alarm_sns_topic_arn names one, and warns when nobody is subscribed", () => {
    const ownTopic = "${(length(var.alarm_sns_topic_arn) < 1) ? 1 : 0}";
    expect(resource("aws_kms_key", "worker_alarms")).toMatchObject({
      count: ownTopic,
      enable_key_rotation: true,
      policy: "${data.aws_iam_policy_document.worker_alarms_key.json}",
    });
    expect(data("aws_iam_policy_document", "worker_alarms_key").statement).toEqual([
      {
        sid: "AccountAdministersKey",
        principals: [
          {
            type: "AWS",
            identifiers: [
              "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root",
            ],
          },
        ],
        actions: ["kms:*"],
        resources: ["*"],
      },
      {
        sid: "CloudWatchAlarmsPublish",
        principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      },
    ]);
    expect(resource("aws_sns_topic", "worker_alarms")).toMatchObject({
      count: ownTopic,
      name: "${local.name}-worker-alarms",
      kms_master_key_id: "${aws_kms_key.worker_alarms[0].arn}",
    });
    expect(resource("aws_sns_topic_subscription", "worker_alarms")).toMatchObject({
      for_each: "${{ for key, val in var.alarm_subscriptions: val.endpoint => val }}",
      topic_arn: "${aws_sns_topic.worker_alarms[0].arn}",
    });
    expect(json.output.worker_alarm_topic_arn.value).toBe(
      "${one(concat(compact([var.alarm_sns_topic_arn]), aws_sns_topic.worker_alarms[*].arn))}",
    );
    const checks = (json as unknown as { check: Record<string, { assert: { condition: string }[] }> }).check;
    expect(checks.worker_alarms_subscribed.assert[0].condition).toBe(
      "${((length(var.alarm_sns_topic_arn) >= 1) || (length(var.alarm_subscriptions) >= 1))}",
    );
    expect((parity as unknown as { check?: unknown }).check).toBeUndefined();
  });

  it("grants both task roles the KMS keys of video_pipeline_kms_key_arns, when there are any", () => {
    for (const [name, role] of [
      ["task_kms", "task"],
      ["worker_task_kms", "worker_task"],
    ]) {
      expect(resource("aws_iam_role_policy", name)).toMatchObject({
        count: "${(length(var.video_pipeline_kms_key_arns) >= 1) ? 1 : 0}",
        role: `\${aws_iam_role.${role}.id}`,
        policy: `\${data.aws_iam_policy_document.${name}.json}`,
      });
      expect(data("aws_iam_policy_document", name).statement).toEqual([
        {
          sid: "UseVideoPipelineKeys",
          actions: ["kms:Decrypt", "kms:GenerateDataKey"],
          resources: "${var.video_pipeline_kms_key_arns}",
          condition: [
            {
              test: "StringEquals",
              variable: "kms:ViaService",
              values: [
                "s3.${var.aws_region}.${data.aws_partition.current.dns_suffix}",
                "sqs.${var.aws_region}.${data.aws_partition.current.dns_suffix}",
              ],
            },
          ],
        },
      ]);
    }
  });

  it("outputs what operators need", () => {
    expect(json.output.worker_task_role_arn.value).toBe("${aws_iam_role.worker_task.arn}");
    expect(json.output.worker_autoscaling_resource_id.value).toBe("${aws_appautoscaling_target.worker.resource_id}");
    const keys = [...WORKER_ALARMS.map((a) => a.key), SCALE_FROM_ZERO_ALARM.key];
    expect(json.output.worker_alarm_names.value).toEqual(
      Object.fromEntries(
        keys.map((key) => [key, `\${aws_cloudwatch_metric_alarm.${workerAlarmNames("", key).logicalId}.alarm_name}`]),
      ),
    );
  });

  it("declares every variable the legacy module did not have with a default and a validation, so that prod.tfvars works unchanged", () => {
    const legacy = new Set(Object.keys(synthCompute({ workerOperations: false }).json.variable));
    const legacyModule = [
      ...readFileSync(join(LEGACY_MODULE, "variables.tf"), "utf8").matchAll(/^variable "([^"]+)"/gm),
    ].map((m) => m[1]);
    const added = Object.keys(json.variable).filter((name) => !legacyModule.includes(name));
    expect(added.length).toBeGreaterThan(0);
    for (const name of added) {
      expect(json.variable[name]?.default, name).toBeDefined();
      expect(json.variable[name].validation?.length, name).toBeGreaterThan(0);
    }
    // Legacy parity declares the same variables.
    expect([...legacy].sort()).toEqual(Object.keys(json.variable).sort());
  });
});
