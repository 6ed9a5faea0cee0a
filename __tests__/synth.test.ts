import { beforeAll, describe, expect, it } from "vitest";
import { LEGACY_BACKEND } from "../stacks/compute-stack";
import { configAddresses, type SynthJson, synthCompute } from "./helpers/synth";

let json: SynthJson;
beforeAll(() => {
  json = synthCompute().json;
});

const resource = (type: string, name: string) => {
  const found = json.resource[type]?.[name];
  if (!found) throw new Error(`${type}.${name} is not in the synth`);
  return found;
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

  it("names every resource and data source exactly as the legacy module did, without hash suffixes", () => {
    expect(configAddresses(json)).toEqual([
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
    ]);
  });

  it("keeps the legacy outputs, names and values", () => {
    const outputs = Object.fromEntries(Object.entries(json.output).map(([name, o]) => [name, o.value]));
    expect(outputs).toEqual({
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
    expect(json.locals).toMatchObject({
      name: "${var.project_name}",
      common_tags: {
        Project: "${var.project_name}",
        Environment: "${var.environment}",
        ManagedBy: "terraform",
        Module: "compute",
      },
      analysis_queue_arn:
        "arn:aws:sqs:${var.aws_region}:${data.aws_caller_identity.current.account_id}:${var.analysis_queue_name}",
      analysis_queue_url:
        "https://sqs.${var.aws_region}.amazonaws.com/${data.aws_caller_identity.current.account_id}/${var.analysis_queue_name}",
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
  it("lets only ECS tasks assume the task roles", () => {
    expect(data("aws_iam_policy_document", "ecs_tasks_assume").statement).toEqual([
      { actions: ["sts:AssumeRole"], principals: [{ identifiers: ["ecs-tasks.amazonaws.com"], type: "Service" }] },
    ]);
    for (const [name, roleName] of [
      ["task_execution", "${local.name}-task-execution"],
      ["task", "${local.name}-task"],
    ]) {
      expect(resource("aws_iam_role", name)).toMatchObject({
        name: roleName,
        assume_role_policy: "${data.aws_iam_policy_document.ecs_tasks_assume.json}",
      });
    }
  });

  it("gives the execution role the ECS managed policy and read access to the DATABASE_URL secret only", () => {
    expect(resource("aws_iam_role_policy_attachment", "task_execution")).toMatchObject({
      role: "${aws_iam_role.task_execution.name}",
      policy_arn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    });
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
    expect(data("aws_iam_policy_document", "task_s3_sqs").statement).toEqual([
      {
        sid: "VideoObjects",
        actions: ["s3:GetObject", "s3:PutObject"],
        resources: ["arn:aws:s3:::${var.videos_bucket_name}/*"],
      },
      { sid: "VideoBucket", actions: ["s3:ListBucket"], resources: ["arn:aws:s3:::${var.videos_bucket_name}"] },
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
      task_role_arn: "${aws_iam_role.task.arn}",
    });
    const defs = td.container_definitions as string;
    for (const fragment of [
      `"name" = "${name}"`,
      `"image" = var.${name}_image`,
      `"essential" = true`,
      `{"name" = "AWS_REGION", "value" = var.aws_region}`,
      `{"name" = "S3_BUCKET", "value" = var.videos_bucket_name}`,
      `{"name" = "SQS_QUEUE_URL", "value" = local.analysis_queue_url}`,
      `"secrets" = [{"name" = "DATABASE_URL", "valueFrom" = var.database_url_secret_arn}]`,
      `"logDriver" = "awslogs"`,
      `"awslogs-group" = aws_cloudwatch_log_group.${name}.name`,
      `"awslogs-region" = var.aws_region`,
      `"awslogs-stream-prefix" = "${name}"`,
    ]) {
      expect(defs).toContain(fragment);
    }
    expect(defs.startsWith("${jsonencode([")).toBe(true);
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
        security_groups: ["${aws_security_group.ecs_tasks.id}"],
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
    expect(resource("aws_ecs_task_definition", "backend").container_definitions).toContain(
      `"portMappings" = [{"containerPort" = var.backend_container_port, "protocol" = "tcp"}]`,
    );
  });

  it("gives the worker no load balancer and no port", () => {
    expect(resource("aws_ecs_service", "worker").load_balancer).toBeUndefined();
    expect(resource("aws_ecs_task_definition", "worker").container_definitions).not.toContain("portMappings");
  });
});
