import { TerraformVariable, VariableType } from "cdktf";
import { Construct } from "constructs";
import { pin } from "./pin.js";

/**
 * The module's input variables, exactly as the hand-written module declared
 * them (names, types, defaults, descriptions), so that an existing tfvars file
 * such as `prod.tfvars` keeps working with `terraform plan -var-file`.
 */
export class ComputeVariables extends Construct {
  readonly awsRegion: TerraformVariable;
  readonly projectName: TerraformVariable;
  readonly environment: TerraformVariable;
  readonly vpcId: TerraformVariable;
  readonly privateSubnetIds: TerraformVariable;
  readonly albSecurityGroupId: TerraformVariable;
  readonly albTargetGroupArn: TerraformVariable;
  readonly backendImage: TerraformVariable;
  readonly workerImage: TerraformVariable;
  readonly backendContainerPort: TerraformVariable;
  readonly backendDesiredCount: TerraformVariable;
  readonly backendCpu: TerraformVariable;
  readonly backendMemory: TerraformVariable;
  readonly workerDesiredCount: TerraformVariable;
  readonly workerCpu: TerraformVariable;
  readonly workerMemory: TerraformVariable;
  readonly videosBucketName: TerraformVariable;
  readonly analysisQueueName: TerraformVariable;
  readonly databaseUrlSecretArn: TerraformVariable;
  readonly logRetentionDays: TerraformVariable;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const variable = (name: string, config: ConstructorParameters<typeof TerraformVariable>[2]) =>
      pin(new TerraformVariable(this, name, config), name);
    const { STRING, NUMBER } = VariableType;

    this.awsRegion = variable("aws_region", {
      description: "AWS region for all compute resources",
      type: STRING,
      default: "us-east-2",
    });
    this.projectName = variable("project_name", {
      description: "Name prefix for every resource",
      type: STRING,
      default: "cricksy-ai",
    });
    this.environment = variable("environment", {
      description: "Deployment environment tag",
      type: STRING,
      default: "prod",
    });
    this.vpcId = variable("vpc_id", {
      description: "VPC that the ECS tasks run in",
      type: STRING,
    });
    this.privateSubnetIds = variable("private_subnet_ids", {
      description: "Private subnets for the ECS tasks",
      type: VariableType.list(STRING),
    });
    this.albSecurityGroupId = variable("alb_security_group_id", {
      description: "Security group of the public load balancer in front of the backend",
      type: STRING,
    });
    this.albTargetGroupArn = variable("alb_target_group_arn", {
      description: "Target group that the backend service registers with",
      type: STRING,
    });
    this.backendImage = variable("backend_image", {
      description: "Container image (repository:tag) of the API backend",
      type: STRING,
    });
    this.workerImage = variable("worker_image", {
      description: "Container image (repository:tag) of the analysis worker",
      type: STRING,
    });
    this.backendContainerPort = variable("backend_container_port", {
      description: "Port the backend container listens on",
      type: NUMBER,
      default: 8000,
    });
    this.backendDesiredCount = variable("backend_desired_count", {
      description: "Number of backend tasks",
      type: NUMBER,
      default: 2,
    });
    this.backendCpu = variable("backend_cpu", {
      description: "Backend task CPU units",
      type: NUMBER,
      default: 512,
    });
    this.backendMemory = variable("backend_memory", {
      description: "Backend task memory (MiB)",
      type: NUMBER,
      default: 1024,
    });
    this.workerDesiredCount = variable("worker_desired_count", {
      description: "Number of worker tasks",
      type: NUMBER,
      default: 1,
    });
    this.workerCpu = variable("worker_cpu", {
      description: "Worker task CPU units",
      type: NUMBER,
      default: 512,
    });
    this.workerMemory = variable("worker_memory", {
      description: "Worker task memory (MiB)",
      type: NUMBER,
      default: 1024,
    });
    this.videosBucketName = variable("videos_bucket_name", {
      description: "S3 bucket holding uploaded videos and analysis results",
      type: STRING,
    });
    this.analysisQueueName = variable("analysis_queue_name", {
      description: "Name of the SQS queue that carries video analysis jobs",
      type: STRING,
    });
    this.databaseUrlSecretArn = variable("database_url_secret_arn", {
      description: "Secrets Manager ARN of the DATABASE_URL secret",
      type: STRING,
    });
    this.logRetentionDays = variable("log_retention_days", {
      description: "CloudWatch log retention for both services",
      type: NUMBER,
      default: 30,
    });
  }
}
