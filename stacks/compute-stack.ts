import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Fn, S3Backend, type S3BackendConfig, TerraformLocal, TerraformOutput, TerraformStack, Token } from "cdktf";
import type { Construct } from "constructs";
import { WORKER_CONTRACT as CONTRACT } from "../worker-src/src/contract.js";
import { Cluster } from "./constructs/cluster.js";
import { FargateService } from "./constructs/fargate-service.js";
import { TaskRoles } from "./constructs/task-roles.js";
import { TasksSecurityGroup } from "./constructs/tasks-security-group.js";
import { VideoPipelineAccess } from "./constructs/video-pipeline-access.js";
import { WorkerAlarms } from "./constructs/worker-alarms.js";
import { WorkerAutoscaling } from "./constructs/worker-autoscaling.js";
import { WorkerTaskRole } from "./constructs/worker-task-role.js";
import { pin } from "./pin.js";
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
  /** Where the state lives. Default: the legacy module's S3 backend. */
  readonly backend?: S3BackendConfig;
  /**
   * The worker's production operations: its own least-privilege role, scaling on
   * backlog, graceful deploys, alarms. Default: true. With false the stack is the
   * exact equivalent of the hand-written module (a switch-over that plans as
   * "No changes"; see docs/migration.md).
   */
  readonly workerOperations?: boolean;
}

/**
 * The compute module of cricksy-ai: the ECS cluster, the API backend service and
 * the video-analysis worker service. Every address matches the hand-written
 * module it replaces, so that both plan against the same state.
 */
export class ComputeStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: ComputeStackProps = {}) {
    super(scope, id);

    // State, provider and inputs
    new S3Backend(this, props.backend ?? LEGACY_BACKEND);
    // 1.9: variable validations that compare variables (Fargate CPU and memory, min <= max).
    this.addOverride("terraform.required_version", ">= 1.9.0");
    const vars = new ComputeVariables(this, "variables");
    new AwsProvider(this, "aws", { region: vars.awsRegion.stringValue });

    // Names, tags and the analysis queue (it lives outside this module)
    const caller = pin(new DataAwsCallerIdentity(this, "caller"), "current");
    const name = pin(new TerraformLocal(this, "name", vars.projectName.stringValue), "name").asString;
    const commonTags = pin(
      new TerraformLocal(this, "common-tags", {
        Project: vars.projectName.stringValue,
        Environment: vars.environment.stringValue,
        ManagedBy: "terraform",
        Module: "compute",
      }),
      "common_tags",
    ).asStringMap;
    const region = vars.awsRegion.stringValue;
    const queueName = vars.analysisQueueName.stringValue;
    const queueArn = pin(
      new TerraformLocal(this, "queue-arn", `arn:aws:sqs:${region}:${caller.accountId}:${queueName}`),
      "analysis_queue_arn",
    ).asString;
    const queueUrl = pin(
      new TerraformLocal(this, "queue-url", `https://sqs.${region}.amazonaws.com/${caller.accountId}/${queueName}`),
      "analysis_queue_url",
    ).asString;
    const dlqName = pin(
      new TerraformLocal(
        this,
        "dlq-name",
        // coalesce: the first non-empty string, so "" falls back to the default name
        Fn.coalesce([vars.analysisDlqName.stringValue, `${queueName}-dlq`]),
      ),
      "analysis_dlq_name",
    ).asString;

    // Cluster, IAM and network shared by both services
    const { cluster } = new Cluster(this, "cluster", { name: `${name}-cluster`, tags: commonTags });
    const roles = new TaskRoles(this, "task-roles", {
      namePrefix: name,
      secretArns: [vars.databaseUrlSecretArn.stringValue],
      tags: commonTags,
    });
    const { securityGroup } = new TasksSecurityGroup(this, "tasks-security-group", {
      namePrefix: name,
      vpcId: vars.vpcId.stringValue,
      loadBalancerSecurityGroupId: vars.albSecurityGroupId.stringValue,
      backendPort: vars.backendContainerPort.numberValue,
      tags: commonTags,
    });

    // What both services' containers get
    const service = {
      namePrefix: name,
      cluster: cluster.id,
      executionRoleArn: roles.executionRole.arn,
      taskRoleArn: roles.taskRole.arn,
      subnetIds: vars.privateSubnetIds.listValue,
      securityGroupIds: [securityGroup.id],
      region,
      logRetentionDays: vars.logRetentionDays.numberValue,
      environment: { AWS_REGION: region, S3_BUCKET: vars.videosBucketName.stringValue, SQS_QUEUE_URL: queueUrl },
      secrets: { DATABASE_URL: vars.databaseUrlSecretArn.stringValue },
    };

    // Backend (API) behind the load balancer
    const backend = new FargateService(this, "backend-service", {
      ...service,
      name: "backend",
      image: vars.backendImage.stringValue,
      cpu: vars.backendCpu.numberValue,
      memory: vars.backendMemory.numberValue,
      desiredCount: vars.backendDesiredCount.numberValue,
      containerPort: vars.backendContainerPort.numberValue,
      targetGroupArn: vars.albTargetGroupArn.stringValue,
      healthCheckGracePeriodSeconds: 60,
      tags: componentTags(commonTags, "backend"),
    });

    // Worker: consumes video analysis jobs from SQS, reads and writes S3
    const operations = props.workerOperations ?? true;
    const workerRole = operations
      ? new WorkerTaskRole(this, "worker-task-role", {
          namePrefix: name,
          assumeRolePolicy: roles.assumeRolePolicy.json,
          bucketName: vars.videosBucketName.stringValue,
          videoPrefixes: vars.workerVideoPrefixes.listValue,
          queueArn,
          region,
          accountId: caller.accountId,
          clusterName: cluster.name,
          tags: commonTags,
        })
      : undefined;
    const worker = new FargateService(this, "worker-service", {
      ...service,
      name: "worker",
      image: vars.workerImage.stringValue,
      cpu: vars.workerCpu.numberValue,
      memory: vars.workerMemory.numberValue,
      desiredCount: vars.workerDesiredCount.numberValue,
      ...(workerRole
        ? {
            taskRoleArn: workerRole.role.arn,
            environment: {
              ...service.environment,
              [CONTRACT.env.shutdownGraceS]: String(CONTRACT.stop.shutdownGraceS),
              [CONTRACT.env.scratchDir]: CONTRACT.paths.scratchDir,
              [CONTRACT.env.healthFile]: CONTRACT.paths.healthFile,
              [CONTRACT.env.metricsNamespace]: CONTRACT.metrics.namespace,
            },
            stopTimeoutSeconds: CONTRACT.stop.stopTimeoutS,
            initProcessEnabled: true,
            readonlyRootFilesystem: true,
            scratchVolumes: { scratch: CONTRACT.paths.scratchDir, tmp: "/tmp" },
            ephemeralStorageGib: vars.workerEphemeralStorageGib.numberValue,
            healthCheck: {
              command: [...CONTRACT.healthCheck.command],
              intervalSeconds: CONTRACT.healthCheck.intervalS,
              timeoutSeconds: CONTRACT.healthCheck.timeoutS,
              retries: CONTRACT.healthCheck.retries,
              startPeriodSeconds: CONTRACT.healthCheck.startPeriodS,
            },
            autoscaled: true,
            keepRevisions: true,
          }
        : {}),
      tags: componentTags(commonTags, "worker"),
    });
    new VideoPipelineAccess(this, "video-pipeline-access", {
      namePrefix: name,
      role: roles.taskRole,
      bucketName: vars.videosBucketName.stringValue,
      queueArn,
      tags: commonTags,
    });

    // Outputs
    const output = (outputName: string, description: string, value: string) =>
      new TerraformOutput(this, outputName, { description, value, staticId: true });
    output("cluster_name", "Name of the ECS cluster", cluster.name);
    output("cluster_arn", "ARN of the ECS cluster", cluster.arn);
    output("ecs_tasks_security_group_id", "Security group shared by the ECS tasks", securityGroup.id);
    output("backend_service_name", "Name of the backend ECS service", backend.service.name);
    output("backend_log_group_name", "CloudWatch log group of the backend", backend.logGroup.name);
    output("worker_log_group_name", "CloudWatch log group of the worker", worker.logGroup.name);
    output("worker_service_name", "Name of the worker ECS service", worker.service.name);
    output("worker_service_arn", "ARN of the worker ECS service", worker.service.id);
    output(
      "worker_task_definition_arn",
      "ARN (with revision) of the worker task definition",
      worker.taskDefinition.arn,
    );

    // Worker operations: scaling on backlog per task, alarms
    if (workerRole) {
      const scaling = new WorkerAutoscaling(this, "worker-autoscaling", {
        namePrefix: name,
        clusterName: cluster.name,
        serviceName: worker.service.name,
        queueName,
        minCount: vars.workerMinCount.numberValue,
        maxCount: vars.workerMaxCount.numberValue,
        backlogPerTask: vars.workerBacklogPerTask.numberValue,
        scaleOutCooldownSeconds: vars.workerScaleOutCooldownSeconds.numberValue,
        scaleInCooldownSeconds: vars.workerScaleInCooldownSeconds.numberValue,
        tags: componentTags(commonTags, "worker"),
      });
      const alarms = new WorkerAlarms(this, "worker-alarms", {
        namePrefix: name,
        queueName,
        deadLetterQueueName: dlqName,
        clusterName: cluster.name,
        serviceName: worker.service.name,
        metrics: CONTRACT.metrics,
        maxMessageAgeSeconds: vars.workerMaxMessageAgeSeconds.numberValue,
        failedJobsThreshold: vars.workerFailedJobsThreshold.numberValue,
        actions: Fn.compact([vars.alarmSnsTopicArn.stringValue]),
        tags: componentTags(commonTags, "worker"),
      });
      output("worker_task_role_arn", "ARN of the worker's own task role", workerRole.role.arn);
      output(
        "worker_autoscaling_resource_id",
        "Application Auto Scaling resource id of the worker service (service/<cluster>/<service>)",
        scaling.target.resourceId,
      );
      new TerraformOutput(this, "worker_alarm_names", {
        description: "CloudWatch alarms of the worker by purpose (scale_from_zero is a scaling action, not a page)",
        // A token, not a plain object: cdktf inspects plain output objects with the deprecated util.isArray.
        value: Token.asAny({ ...alarms.names, scale_from_zero: scaling.scaleFromZeroAlarm.alarmName }),
        staticId: true,
      });
    }
  }
}
