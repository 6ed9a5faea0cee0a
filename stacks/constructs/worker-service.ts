import type { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import type { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { WORKER_CONTRACT as CONTRACT } from "../../worker-src/src/contract.js";
import { output } from "../outputs.js";
import { componentTags, type Tags } from "../tags.js";
import { AlarmTopic, type AlarmTopicProps } from "./alarm-topic.js";
import type { AnalysisQueue } from "./compute-locals.js";
import type { ContainerDefinition } from "./container-definition.js";
import { type FargateServiceParts, type FargateServiceProps, makeFargateService } from "./fargate-service.js";
import type { TaskRoles } from "./task-roles.js";
import { WorkerAlarms, type WorkerAlarmThresholds } from "./worker-alarms.js";
import { checkScalingSettings, WorkerAutoscaling, type WorkerScalingSettings } from "./worker-autoscaling.js";
import { WorkerSecurityGroup } from "./worker-security-group.js";
import { WorkerTaskRole } from "./worker-task-role.js";

export interface WorkerServiceProps
  extends Pick<
    FargateServiceProps,
    | "namePrefix"
    | "cluster"
    | "image"
    | "cpu"
    | "memory"
    | "desiredCount"
    | "subnetIds"
    | "securityGroups"
    | "region"
    | "logRetentionDays"
    | "environment"
    | "secrets"
  > {
  /**
   * The roles shared by the tasks: the execution role, the trust policy of the
   * worker's own role, and the shared task role (the worker's with `operations: false`).
   */
  readonly roles: TaskRoles;
  /** Account of the tasks (task protection ARN, the alarm key's policy). */
  readonly accountId: string;
  /** Partition of the ARNs the worker's role and key policy build. @default "aws" */
  readonly partition?: string;
  /** DNS suffix of the partition's endpoints (KMS grants). @default "amazonaws.com" */
  readonly dnsSuffix?: string;
  /** VPC of the tasks (an id): the worker's own security group lives there (with operations). */
  readonly vpcId: string;
  /**
   * The deployment environment (`var.environment`): the worker writes it as its metrics'
   * Environment dimension (`WORKER_ENVIRONMENT`), and the jobs-failing alarm reads it.
   */
  readonly environmentName: string;
  /** The analysis job queue the worker consumes. */
  readonly queue: AnalysisQueue;
  /** Bucket of uploaded videos and analysis results (from outside the stack: a name). */
  readonly bucketName: string;
  /**
   * The worker's production operations: its own least-privilege role and security
   * group, graceful deploys (stop timeout and drain, init process, read-only root with
   * a scratch volume, health check, kept revisions, the contract's platform), deploys
   * that Terraform waits for and that fail on a rollback, scaling on backlog, alarms
   * that deliver (its own encrypted topic, or yours), and their outputs. With false it
   * is the hand-written module's worker exactly (legacy parity, docs/migration.md), and
   * `securityGroups` are its groups; the settings below are not used.
   * @default true
   */
  readonly operations?: boolean;
  /** Key prefixes of uploaded videos that the worker may read, each ending in "/". */
  readonly videoPrefixes: string[];
  /** Ephemeral storage of a task in GiB (21-200): the scratch and /tmp volumes. */
  readonly ephemeralStorageGib: number;
  /** How the worker scales on its backlog. */
  readonly scaling: WorkerScalingSettings;
  /** The alarms' thresholds, and where they go. */
  readonly alarms: WorkerAlarmSettings;
  /**
   * Customer managed KMS keys (key ARNs, or a Terraform list) that encrypt the bucket, the
   * queue or its dead-letter queue: the worker's role may use them. @default - none
   */
  readonly kmsKeyArns?: string[];
  /**
   * Tags of every resource; the service's own (log group, task definition, service,
   * scaling, alarms) also get `Component = worker`. @default - only `Component = worker`
   */
  readonly tags?: Tags;
}

/** The alarms' thresholds, and where they go (`AlarmTopic`). */
export interface WorkerAlarmSettings extends WorkerAlarmThresholds {
  /** An SNS topic (ARN) of yours to notify instead of the stack's own; empty: the stack's own. @default "" */
  readonly externalTopicArn?: string;
  /** Who the stack's own topic notifies. @default - none */
  readonly subscriptions?: AlarmTopicProps["subscriptions"];
}

/**
 * The video-analysis worker: a Fargate service that consumes the analysis queue,
 * with (by default) its own role, graceful deploys, scaling on backlog and alarms,
 * and the `worker_*` outputs. Modelled on aws-cdk's `QueueProcessingServiceBase`:
 * one construct per concern, holding the service (FargateService's parts, made in
 * this scope) and what runs it.
 *
 * Addresses: `aws_cloudwatch_log_group.worker`, `aws_ecs_task_definition.worker`,
 * `aws_ecs_service.worker`; with operations also `WorkerTaskRole`'s,
 * `WorkerSecurityGroup`'s, `WorkerAutoscaling`'s, `AlarmTopic`'s and `WorkerAlarms`'.
 */
export class WorkerService extends Construct implements FargateServiceParts {
  /** `aws_cloudwatch_log_group.worker`. */
  readonly logGroup: CloudwatchLogGroup;
  /** `aws_ecs_task_definition.worker`. */
  readonly taskDefinition: EcsTaskDefinition;
  /** `aws_ecs_service.worker`. */
  readonly service: EcsService;
  /** The worker's container, as written into the task definition. */
  readonly container: ContainerDefinition;
  /** The role the worker runs as: its own, or the shared task role without operations. */
  readonly taskRole: IamRole;
  /** The autoscaler. @default - none without operations */
  readonly autoscaling?: WorkerAutoscaling;
  /** The alarms. @default - none without operations */
  readonly alarms?: WorkerAlarms;
  /** Where the alarms go. @default - none without operations */
  readonly alarmTopic?: AlarmTopic;
  /** The worker's own security group. @default - none without operations (the given groups) */
  readonly securityGroup?: SecurityGroup;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    const operations = props.operations ?? true;
    if (operations) checkProps(props);
    const tags = componentTags(props.tags ?? {}, "worker");

    this.taskRole = operations
      ? new WorkerTaskRole(this, "task-role", {
          namePrefix: props.namePrefix,
          assumeRolePolicy: props.roles.taskRoleAssumePolicy,
          bucketName: props.bucketName,
          videoPrefixes: props.videoPrefixes,
          queue: props.queue,
          region: props.region,
          accountId: props.accountId,
          cluster: props.cluster,
          partition: props.partition,
          dnsSuffix: props.dnsSuffix,
          kmsKeyArns: props.kmsKeyArns,
          tags: props.tags,
        }).role
      : props.roles.taskRole;
    this.securityGroup = operations
      ? new WorkerSecurityGroup(this, "security-group", {
          namePrefix: props.namePrefix,
          vpcId: props.vpcId,
          tags: props.tags,
        }).securityGroup
      : undefined;

    const fargate = makeFargateService(this, {
      namePrefix: props.namePrefix,
      cluster: props.cluster,
      image: props.image,
      cpu: props.cpu,
      memory: props.memory,
      desiredCount: props.desiredCount,
      subnetIds: props.subnetIds,
      securityGroups: this.securityGroup ? [this.securityGroup] : props.securityGroups,
      region: props.region,
      logRetentionDays: props.logRetentionDays,
      secrets: props.secrets,
      name: "worker",
      executionRole: props.roles.executionRole,
      taskRole: this.taskRole,
      environment: operations
        ? { ...props.environment, ...contractEnvironment(props.environmentName) }
        : props.environment,
      ...(operations ? gracefulDeploys(props.ephemeralStorageGib) : {}),
      tags,
    });
    this.logGroup = fargate.logGroup;
    this.taskDefinition = fargate.taskDefinition;
    this.service = fargate.service;
    this.container = fargate.container;

    output(this, "worker_log_group_name", "CloudWatch log group of the worker", this.logGroup.name);
    output(this, "worker_service_name", "Name of the worker ECS service", this.service.name);
    output(this, "worker_service_arn", "ARN of the worker ECS service", this.service.id);
    output(
      this,
      "worker_task_definition_arn",
      "ARN (with revision) of the worker task definition",
      this.taskDefinition.arn,
    );
    if (!operations) return;

    const autoscaling = new WorkerAutoscaling(this, "autoscaling", {
      ...props.scaling,
      namePrefix: props.namePrefix,
      cluster: props.cluster,
      service: this.service,
      queue: props.queue,
      tags,
    });
    const alarmTopic = new AlarmTopic(this, "alarm-topic", {
      namePrefix: props.namePrefix,
      externalTopicArn: props.alarms.externalTopicArn,
      subscriptions: props.alarms.subscriptions,
      accountId: props.accountId,
      partition: props.partition,
      tags,
    });
    const alarms = new WorkerAlarms(this, "alarms", {
      namePrefix: props.namePrefix,
      queue: props.queue,
      cluster: props.cluster,
      service: this.service,
      thresholds: props.alarms,
      environmentName: props.environmentName,
      actions: alarmTopic.actions,
      tags,
    });
    // ECS fails a deployment, and rolls it back, when a deployment alarm goes to ALARM.
    this.service.putAlarms({ alarmNames: alarms.deploymentAlarmNames, enable: true, rollback: true });
    this.autoscaling = autoscaling;
    this.alarms = alarms;
    this.alarmTopic = alarmTopic;

    output(this, "worker_task_role_arn", "ARN of the worker's own task role", this.taskRole.arn);
    output(
      this,
      "worker_security_group_id",
      "The worker's own security group (no ingress, HTTPS out)",
      this.securityGroup?.id,
    );
    output(
      this,
      "worker_alarm_topic_arn",
      "SNS topic that the worker alarms notify: the stack's own, or alarm_sns_topic_arn",
      alarmTopic.topicArn,
    );
    output(
      this,
      "worker_autoscaling_resource_id",
      "Application Auto Scaling resource id of the worker service (service/<cluster>/<service>)",
      autoscaling.target.resourceId,
    );
    output(
      this,
      "worker_alarm_names",
      "CloudWatch alarms of the worker by purpose (scale_from_zero is a scaling action, not a page)",
      Token.asAny({ ...alarms.names, scale_from_zero: autoscaling.scaleFromZeroAlarm.alarmName }),
    );
  }
}

/** The variables through which the worker reads the contract's settings, and its environment's name. */
function contractEnvironment(environmentName: string): { [name: string]: string } {
  return {
    [CONTRACT.env.shutdownGraceS]: String(CONTRACT.stop.shutdownGraceS),
    [CONTRACT.env.scratchDir]: CONTRACT.paths.scratchDir,
    [CONTRACT.env.healthFile]: CONTRACT.paths.healthFile,
    [CONTRACT.env.tmpDir]: CONTRACT.paths.tmpDir,
    [CONTRACT.env.metricsNamespace]: CONTRACT.metrics.namespace,
    [CONTRACT.env.environment]: environmentName,
  };
}

/**
 * How the worker's tasks start, stop and are replaced: the contract's stop timeout
 * (the worker drains for less), an init process, a read-only root with one writable
 * scratch volume on the task's storage (TMPDIR lies inside it: a volume at /tmp would
 * be root-owned on Fargate, as the image does not declare it), the contract's health check
 * and platform, a task count the autoscaler owns, kept revisions for rollbacks, and
 * deploys that Terraform waits for and that fail the apply when ECS rolls them back.
 */
function gracefulDeploys(ephemeralStorageGib: number): Partial<FargateServiceProps> {
  return {
    stopTimeoutSeconds: CONTRACT.stop.stopTimeoutS,
    initProcessEnabled: true,
    readonlyRootFilesystem: true,
    scratchVolumes: { scratch: CONTRACT.paths.scratchDir },
    ephemeralStorageGib,
    healthCheck: {
      command: CONTRACT.healthCheck.command,
      intervalSeconds: CONTRACT.healthCheck.intervalS,
      timeoutSeconds: CONTRACT.healthCheck.timeoutS,
      retries: CONTRACT.healthCheck.retries,
      startPeriodSeconds: CONTRACT.healthCheck.startPeriodS,
    },
    runtimePlatform: {
      operatingSystemFamily: CONTRACT.platform.operatingSystemFamily,
      cpuArchitecture: CONTRACT.platform.cpuArchitecture,
    },
    autoscaled: true,
    keepRevisions: true,
    waitForSteadyState: true,
    failOnRollback: true,
  };
}

/** Guards for literal settings (the stack's come from variables, which validate them at plan time). */
function checkProps(props: WorkerServiceProps): void {
  checkScalingSettings("WorkerService", "scaling.", props.scaling);
  const { desiredCount } = props;
  const { minCount, maxCount } = props.scaling;
  if (
    [desiredCount, minCount, maxCount].every((n) => !Token.isUnresolved(n)) &&
    (desiredCount < minCount || desiredCount > maxCount)
  ) {
    throw new Error(
      `WorkerService: desiredCount (${desiredCount}) is outside scaling.minCount to scaling.maxCount (${minCount} to ${maxCount}): give a desiredCount in that range`,
    );
  }
}
