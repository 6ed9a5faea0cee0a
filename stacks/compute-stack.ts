import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Backend, type S3BackendConfig, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { WORKER_CONTRACT as CONTRACT } from "../worker-src/src/contract.js";
import { Cluster } from "./constructs/cluster.js";
import { ComputeLocals } from "./constructs/compute-locals.js";
import { FargateService } from "./constructs/fargate-service.js";
import { TaskRoles } from "./constructs/task-roles.js";
import { TasksSecurityGroup } from "./constructs/tasks-security-group.js";
import { VideoPipelineAccess } from "./constructs/video-pipeline-access.js";
import { WorkerService } from "./constructs/worker-service.js";
import { output } from "./outputs.js";
import { componentTags } from "./tags.js";
import { ComputeVariables } from "./variables.js";

/** The state backend of the hand-written module; the same key means no state move. */
export const LEGACY_BACKEND: S3BackendConfig = {
  bucket: "cricksy-ai-terraform-state",
  key: "compute/terraform.tfstate",
  region: "us-east-2",
  dynamodbTable: "cricksy-ai-terraform-locks",
  encrypt: true,
};

export interface ComputeStackProps {
  /** Where the state lives. @default LEGACY_BACKEND (the legacy module's S3 backend) */
  readonly backend?: S3BackendConfig;
  /**
   * The worker's production operations (`WorkerService`'s `operations`). With false
   * the stack is the exact equivalent of the hand-written module: a switch-over that
   * plans as "No changes" (docs/migration.md). @default true
   */
  readonly workerOperations?: boolean;
}

/**
 * The compute module of cricksy-ai: the ECS cluster, the API backend service and
 * the video-analysis worker service. Every address matches the hand-written
 * module it replaces (each construct pins its resources' names with `pin()`), so
 * that both plan against the same state.
 *
 * References between constructs: what this stack makes is passed as its object
 * (`EcsCluster`, `IamRole`, `SecurityGroup`, `TaskRoles`, ...); what lives outside
 * it comes as the identifier its input holds (a name, id or ARN).
 */
export class ComputeStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: ComputeStackProps = {}) {
    super(scope, id);

    // State, provider and inputs
    new S3Backend(this, props.backend ?? LEGACY_BACKEND);
    // 1.9: variable validations that compare variables (Fargate CPU and memory, min <= max).
    this.addOverride("terraform.required_version", ">= 1.9.0");
    const input = new ComputeVariables(this, "variables").inputs;
    new AwsProvider(this, "aws", { region: input.aws_region });
    const operations = props.workerOperations ?? true;

    // Names, tags, the account, the partition and the analysis queue (it lives outside this
    // module: looked up in SQS, or built from its name in legacy parity)
    const locals = new ComputeLocals(this, "locals", {
      projectName: input.project_name,
      environment: input.environment,
      region: input.aws_region,
      queueName: input.analysis_queue_name,
      deadLetterQueueName: input.analysis_dlq_name,
      legacyParity: !operations,
    });
    const { name, commonTags: tags, queue, partition, dnsSuffix } = locals;

    // Cluster, IAM and network shared by both services
    const { cluster } = new Cluster(this, "cluster", { name: `${name}-cluster`, tags });
    const roles = new TaskRoles(this, "task-roles", {
      namePrefix: name,
      secretArns: [input.database_url_secret_arn],
      partition,
      trustedSource: operations ? { accountId: locals.accountId, region: input.aws_region, partition } : undefined,
      tags,
    });
    const { securityGroup } = new TasksSecurityGroup(this, "tasks-security-group", {
      namePrefix: name,
      vpcId: input.vpc_id,
      loadBalancerSecurityGroupId: input.alb_security_group_id,
      loadBalancerPort: input.backend_container_port,
      tags,
    });

    // What both services get: where they run, their logs, and their containers' variables
    const shared = {
      namePrefix: name,
      cluster,
      subnetIds: input.private_subnet_ids,
      securityGroups: [securityGroup],
      region: input.aws_region,
      logRetentionDays: input.log_retention_days,
      environment: {
        [CONTRACT.env.region]: input.aws_region,
        [CONTRACT.env.bucket]: input.videos_bucket_name,
        [CONTRACT.env.queueUrl]: queue.url,
      },
      secrets: { [CONTRACT.env.databaseUrl]: input.database_url_secret_arn },
    };

    // Backend (API) behind the load balancer, with the shared task role and its access
    const backend = new FargateService(this, "backend-service", {
      ...shared,
      name: "backend",
      image: input.backend_image,
      cpu: input.backend_cpu,
      memory: input.backend_memory,
      desiredCount: input.backend_desired_count,
      executionRole: roles.executionRole,
      taskRole: roles.taskRole,
      containerPort: input.backend_container_port,
      targetGroupArn: input.alb_target_group_arn,
      healthCheckGracePeriodSeconds: 60,
      tags: componentTags(tags, "backend"),
    });
    new VideoPipelineAccess(this, "video-pipeline-access", {
      namePrefix: name,
      role: roles.taskRole,
      bucketName: input.videos_bucket_name,
      queue,
      partition,
      ...(operations ? { kmsKeyArns: input.video_pipeline_kms_key_arns, region: input.aws_region, dnsSuffix } : {}),
      tags,
    });

    // Worker: consumes video analysis jobs from SQS, reads and writes S3 (its outputs come with it)
    new WorkerService(this, "worker-service", {
      ...shared,
      image: input.worker_image,
      cpu: input.worker_cpu,
      memory: input.worker_memory,
      desiredCount: input.worker_desired_count,
      roles,
      accountId: locals.accountId,
      partition,
      dnsSuffix,
      vpcId: input.vpc_id,
      environmentName: input.environment,
      queue,
      bucketName: input.videos_bucket_name,
      kmsKeyArns: input.video_pipeline_kms_key_arns,
      operations,
      videoPrefixes: input.worker_video_prefixes,
      ephemeralStorageGib: input.worker_ephemeral_storage_gib,
      scaling: {
        minCount: input.worker_min_count,
        maxCount: input.worker_max_count,
        backlogPerTask: input.worker_backlog_per_task,
        scaleOutCooldownSeconds: input.worker_scale_out_cooldown_seconds,
        scaleInCooldownSeconds: input.worker_scale_in_cooldown_seconds,
        scaleFromZeroCooldownSeconds: input.worker_scale_from_zero_cooldown_seconds,
      },
      alarms: {
        maxMessageAgeSeconds: input.worker_max_message_age_seconds,
        failedJobsThreshold: input.worker_failed_jobs_threshold,
        externalTopicArn: input.alarm_sns_topic_arn,
        subscriptions: input.alarm_subscriptions,
      },
      tags,
    });

    // Outputs of the cluster, the network and the backend
    output(this, "cluster_name", "Name of the ECS cluster", cluster.name);
    output(this, "cluster_arn", "ARN of the ECS cluster", cluster.arn);
    output(
      this,
      "ecs_tasks_security_group_id",
      operations
        ? "Security group of the backend's tasks (the worker has its own)"
        : "Security group shared by the ECS tasks",
      securityGroup.id,
    );
    output(this, "backend_service_name", "Name of the backend ECS service", backend.service.name);
    output(this, "backend_log_group_name", "CloudWatch log group of the backend", backend.logGroup.name);
  }
}
