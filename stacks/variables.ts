import { TerraformVariable, VariableType } from "cdktf";
import { Construct } from "constructs";
import { pin } from "./pin.js";
import {
  eachMatches,
  emptyOrPattern,
  fargateCpu,
  fargateMemory,
  logRetention,
  pattern,
  wholeNumber,
} from "./validation.js";

/**
 * The module's input variables. The legacy ones keep the hand-written module's
 * names, types, defaults and descriptions, so that an existing tfvars file such
 * as `prod.tfvars` keeps working with `terraform plan -var-file`; validations
 * turn mistakes into plan-time errors. The worker's newer ones all have
 * defaults.
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
  // Worker operations (no legacy counterpart; all have defaults)
  readonly workerMinCount: TerraformVariable;
  readonly workerMaxCount: TerraformVariable;
  readonly workerBacklogPerTask: TerraformVariable;
  readonly workerScaleOutCooldownSeconds: TerraformVariable;
  readonly workerScaleInCooldownSeconds: TerraformVariable;
  readonly workerEphemeralStorageGib: TerraformVariable;
  readonly workerVideoPrefixes: TerraformVariable;
  readonly analysisDlqName: TerraformVariable;
  readonly alarmSnsTopicArn: TerraformVariable;
  readonly workerMaxMessageAgeSeconds: TerraformVariable;
  readonly workerFailedJobsThreshold: TerraformVariable;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const variable = (name: string, config: ConstructorParameters<typeof TerraformVariable>[2]) =>
      pin(new TerraformVariable(this, name, config), name);
    const { STRING, NUMBER } = VariableType;

    this.awsRegion = variable("aws_region", {
      description: "AWS region for all compute resources",
      type: STRING,
      default: "us-east-2",
      validation: [pattern("aws_region", "^[a-z]{2}(-[a-z]+)+-[0-9]+$", 'a region name such as "us-east-2"')],
    });
    this.projectName = variable("project_name", {
      description: "Name prefix for every resource",
      type: STRING,
      default: "cricksy-ai",
      validation: [
        pattern(
          "project_name",
          "^[a-z][a-z0-9-]{1,30}[a-z0-9]$",
          "3-32 characters of a-z, 0-9 and -, starting with a letter (it prefixes IAM, ECS and log group names)",
        ),
      ],
    });
    this.environment = variable("environment", {
      description: "Deployment environment tag",
      type: STRING,
      default: "prod",
    });
    this.vpcId = variable("vpc_id", {
      description: "VPC that the ECS tasks run in",
      type: STRING,
      validation: [pattern("vpc_id", "^vpc-([0-9a-f]{8}|[0-9a-f]{17})$", 'a VPC id such as "vpc-0a1b2c3d4e5f60718"')],
    });
    this.privateSubnetIds = variable("private_subnet_ids", {
      description: "Private subnets for the ECS tasks",
      type: VariableType.list(STRING),
      validation: [
        eachMatches(
          "private_subnet_ids",
          "^subnet-([0-9a-f]{8}|[0-9a-f]{17})$",
          'subnet ids such as "subnet-0aa11bb22cc33dd44"',
        ),
      ],
    });
    this.albSecurityGroupId = variable("alb_security_group_id", {
      description: "Security group of the public load balancer in front of the backend",
      type: STRING,
      validation: [
        pattern(
          "alb_security_group_id",
          "^sg-([0-9a-f]{8}|[0-9a-f]{17})$",
          'a security group id such as "sg-0123456789abcdef0"',
        ),
      ],
    });
    this.albTargetGroupArn = variable("alb_target_group_arn", {
      description: "Target group that the backend service registers with",
      type: STRING,
      validation: [
        pattern(
          "alb_target_group_arn",
          "^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$",
          "a target group ARN: arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<16 hex digits>",
        ),
      ],
    });
    this.backendImage = variable("backend_image", {
      description: "Container image (repository:tag) of the API backend",
      type: STRING,
      validation: [
        pattern(
          "backend_image",
          "^[^\\s:@]+(:[0-9]+)?(/[^\\s:@]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$",
          "an image with a tag or digest: <repository>:<tag> or <repository>@sha256:<digest>",
        ),
      ],
    });
    this.workerImage = variable("worker_image", {
      description: "Container image (repository:tag) of the analysis worker",
      type: STRING,
      validation: [
        pattern(
          "worker_image",
          "^[^\\s:@]+(:[0-9]+)?(/[^\\s:@]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$",
          "an image with a tag or digest: <repository>:<tag> or <repository>@sha256:<digest>",
        ),
      ],
    });
    this.backendContainerPort = variable("backend_container_port", {
      description: "Port the backend container listens on",
      type: NUMBER,
      default: 8000,
      validation: [wholeNumber("backend_container_port", 1, 65535)],
    });
    this.backendDesiredCount = variable("backend_desired_count", {
      description: "Number of backend tasks",
      type: NUMBER,
      default: 2,
      validation: [wholeNumber("backend_desired_count", 0, 100)],
    });
    this.backendCpu = variable("backend_cpu", {
      description: "Backend task CPU units",
      type: NUMBER,
      default: 512,
      validation: [fargateCpu("backend_cpu")],
    });
    this.backendMemory = variable("backend_memory", {
      description: "Backend task memory (MiB)",
      type: NUMBER,
      default: 1024,
      validation: [fargateMemory("backend_memory", "backend_cpu")],
    });
    this.workerDesiredCount = variable("worker_desired_count", {
      description: "Number of worker tasks",
      type: NUMBER,
      default: 1,
      validation: [wholeNumber("worker_desired_count", 0, 100)],
    });
    this.workerCpu = variable("worker_cpu", {
      description: "Worker task CPU units",
      type: NUMBER,
      default: 512,
      validation: [fargateCpu("worker_cpu")],
    });
    this.workerMemory = variable("worker_memory", {
      description: "Worker task memory (MiB)",
      type: NUMBER,
      default: 1024,
      validation: [fargateMemory("worker_memory", "worker_cpu")],
    });
    this.videosBucketName = variable("videos_bucket_name", {
      description: "S3 bucket holding uploaded videos and analysis results",
      type: STRING,
      validation: [
        pattern(
          "videos_bucket_name",
          "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
          "an S3 bucket name: 3-63 characters of a-z, 0-9, . and -",
        ),
      ],
    });
    this.analysisQueueName = variable("analysis_queue_name", {
      description: "Name of the SQS queue that carries video analysis jobs",
      type: STRING,
      validation: [
        pattern(
          "analysis_queue_name",
          "^[A-Za-z0-9_-]{1,75}(\\.fifo)?$",
          "an SQS queue name (a name, not a URL or ARN): up to 80 characters of A-Z, a-z, 0-9, - and _, .fifo at the end for a FIFO queue",
        ),
      ],
    });
    this.databaseUrlSecretArn = variable("database_url_secret_arn", {
      description: "Secrets Manager ARN of the DATABASE_URL secret",
      type: STRING,
      validation: [
        pattern(
          "database_url_secret_arn",
          "^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$",
          "a Secrets Manager secret ARN: arn:aws:secretsmanager:<region>:<account>:secret:<name>",
        ),
      ],
    });
    this.logRetentionDays = variable("log_retention_days", {
      description: "CloudWatch log retention for both services",
      type: NUMBER,
      default: 30,
      validation: [logRetention("log_retention_days")],
    });

    // The worker's operations: scaling, storage, access, alarms.
    this.workerMinCount = variable("worker_min_count", {
      description: "Fewest worker tasks the autoscaler keeps (0 lets the worker scale to zero when the queue is empty)",
      type: NUMBER,
      default: 1,
      validation: [wholeNumber("worker_min_count", 0, 100)],
    });
    this.workerMaxCount = variable("worker_max_count", {
      description: "Most worker tasks the autoscaler runs",
      type: NUMBER,
      default: 10,
      validation: [
        wholeNumber("worker_max_count", 1, 100),
        {
          condition: "${var.worker_max_count >= var.worker_min_count}",
          errorMessage: "worker_max_count must be at least worker_min_count.",
        },
      ],
    });
    this.workerBacklogPerTask = variable("worker_backlog_per_task", {
      description:
        "Visible jobs per running worker task that the autoscaler aims for (latency goal / job duration x jobs in flight per task)",
      type: NUMBER,
      default: 10,
      validation: [
        {
          condition: "${var.worker_backlog_per_task > 0}",
          errorMessage: "worker_backlog_per_task must be greater than 0.",
        },
      ],
    });
    this.workerScaleOutCooldownSeconds = variable("worker_scale_out_cooldown_seconds", {
      description: "Seconds after a scale-out before the next one",
      type: NUMBER,
      default: 60,
      validation: [wholeNumber("worker_scale_out_cooldown_seconds", 0, 3600)],
    });
    this.workerScaleInCooldownSeconds = variable("worker_scale_in_cooldown_seconds", {
      description: "Seconds after a scale-in before the next one",
      type: NUMBER,
      default: 300,
      validation: [wholeNumber("worker_scale_in_cooldown_seconds", 0, 3600)],
    });
    this.workerEphemeralStorageGib = variable("worker_ephemeral_storage_gib", {
      description:
        "Ephemeral storage of a worker task (GiB, 21-200): downloaded videos and thumbnails of the jobs in flight",
      type: NUMBER,
      default: 30,
      validation: [wholeNumber("worker_ephemeral_storage_gib", 21, 200)],
    });
    this.workerVideoPrefixes = variable("worker_video_prefixes", {
      description: "Key prefixes of uploaded videos in the bucket that the worker may read",
      type: VariableType.list(STRING),
      default: ["uploads/"],
      validation: [
        eachMatches(
          "worker_video_prefixes",
          "^[^*?]+/$",
          'key prefixes ending in "/" without wildcards, such as "uploads/"',
        ),
      ],
    });
    this.analysisDlqName = variable("analysis_dlq_name", {
      description: 'Name of the analysis queue\'s dead-letter queue (default: "<analysis_queue_name>-dlq")',
      type: STRING,
      default: "",
      validation: [
        emptyOrPattern(
          "analysis_dlq_name",
          "^[A-Za-z0-9_-]{1,75}(\\.fifo)?$",
          "analysis_dlq_name must be an SQS queue name (not a URL or ARN), or empty for <analysis_queue_name>-dlq.",
        ),
      ],
    });
    this.alarmSnsTopicArn = variable("alarm_sns_topic_arn", {
      description: "SNS topic that the worker alarms notify (empty: alarms without actions)",
      type: STRING,
      default: "",
      validation: [
        emptyOrPattern(
          "alarm_sns_topic_arn",
          "^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$",
          "alarm_sns_topic_arn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>), or empty for no alarm actions.",
        ),
      ],
    });
    this.workerMaxMessageAgeSeconds = variable("worker_max_message_age_seconds", {
      description: "Alarm when the oldest job in the analysis queue waits longer than this (seconds)",
      type: NUMBER,
      default: 1800,
      validation: [wholeNumber("worker_max_message_age_seconds", 60, 1209600)],
    });
    this.workerFailedJobsThreshold = variable("worker_failed_jobs_threshold", {
      description: "Alarm when more jobs than this fail for good within 15 minutes",
      type: NUMBER,
      default: 5,
      validation: [wholeNumber("worker_failed_jobs_threshold", 0)],
    });
  }
}
