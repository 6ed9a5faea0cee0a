import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Backend, type S3BackendConfig, TerraformLocal, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { Cluster } from "./constructs/cluster";
import { FargateService } from "./constructs/fargate-service";
import { TaskRoles } from "./constructs/task-roles";
import { TasksSecurityGroup } from "./constructs/tasks-security-group";
import { VideoPipelineAccess } from "./constructs/video-pipeline-access";
import { pin } from "./pin";
import { componentTags } from "./tags";
import { ComputeVariables } from "./variables";

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
    this.addOverride("terraform.required_version", ">= 1.5.0");
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
    const worker = new FargateService(this, "worker-service", {
      ...service,
      name: "worker",
      image: vars.workerImage.stringValue,
      cpu: vars.workerCpu.numberValue,
      memory: vars.workerMemory.numberValue,
      desiredCount: vars.workerDesiredCount.numberValue,
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
  }
}
