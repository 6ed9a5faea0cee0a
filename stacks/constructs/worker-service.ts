import type { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import type { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { WORKER_CONTRACT as CONTRACT } from "../../worker-src/src/contract.js";
import { output } from "../outputs.js";
import { componentTags, type Tags } from "../tags.js";
import type { AnalysisQueue } from "./compute-locals.js";
import type { ContainerDefinition } from "./container-definition.js";
import { type FargateServiceParts, type FargateServiceProps, makeFargateService } from "./fargate-service.js";
import type { TaskRoles } from "./task-roles.js";
import { WorkerAlarms, type WorkerAlarmThresholds } from "./worker-alarms.js";
import { checkScalingSettings, WorkerAutoscaling, type WorkerScalingSettings } from "./worker-autoscaling.js";
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
  /** Account of the tasks (task protection ARN). */
  readonly accountId: string;
  /** The analysis job queue the worker consumes. */
  readonly queue: AnalysisQueue;
  /** Bucket of uploaded videos and analysis results (from outside the stack: a name). */
  readonly bucketName: string;
  /**
   * The worker's production operations: its own least-privilege role, graceful
   * deploys (stop timeout and drain, init process, read-only root with scratch
   * volumes, health check, kept revisions), scaling on backlog, alarms, and their
   * outputs. With false it is the hand-written module's worker exactly (legacy
   * parity, docs/migration.md), and the settings below are not used.
   * @default true
   */
  readonly operations?: boolean;
  /** Key prefixes of uploaded videos that the worker may read, each ending in "/". */
  readonly videoPrefixes: string[];
  /** Ephemeral storage of a task in GiB (21-200): the scratch and /tmp volumes. */
  readonly ephemeralStorageGib: number;
  /** How the worker scales on its backlog. */
  readonly scaling: WorkerScalingSettings;
  /** The alarms' thresholds, and where they go (SNS topic ARNs; empty: no actions). */
  readonly alarms: WorkerAlarmThresholds & { readonly actions: string[] };
  /**
   * Tags of every resource; the service's own (log group, task definition, service,
   * scaling, alarms) also get `Component = worker`. @default - only `Component = worker`
   */
  readonly tags?: Tags;
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
 * `WorkerAutoscaling`'s and `WorkerAlarms`'.
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

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    const operations = props.operations ?? true;
    if (operations) checkProps(props);
    const tags = componentTags(props.tags ?? {}, "worker");

    this.taskRole = operations
      ? new WorkerTaskRole(this, "task-role", {
          namePrefix: props.namePrefix,
          assumeRolePolicy: props.roles.assumeRolePolicy,
          bucketName: props.bucketName,
          videoPrefixes: props.videoPrefixes,
          queue: props.queue,
          region: props.region,
          accountId: props.accountId,
          cluster: props.cluster,
          tags: props.tags,
        }).role
      : props.roles.taskRole;

    const fargate = makeFargateService(this, {
      namePrefix: props.namePrefix,
      cluster: props.cluster,
      image: props.image,
      cpu: props.cpu,
      memory: props.memory,
      desiredCount: props.desiredCount,
      subnetIds: props.subnetIds,
      securityGroups: props.securityGroups,
      region: props.region,
      logRetentionDays: props.logRetentionDays,
      secrets: props.secrets,
      name: "worker",
      executionRole: props.roles.executionRole,
      taskRole: this.taskRole,
      environment: operations ? { ...props.environment, ...contractEnvironment() } : props.environment,
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
    const alarms = new WorkerAlarms(this, "alarms", {
      namePrefix: props.namePrefix,
      queue: props.queue,
      cluster: props.cluster,
      service: this.service,
      thresholds: props.alarms,
      actions: props.alarms.actions,
      tags,
    });
    this.autoscaling = autoscaling;
    this.alarms = alarms;

    output(this, "worker_task_role_arn", "ARN of the worker's own task role", this.taskRole.arn);
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

/** The variables through which the worker reads the contract's settings. */
function contractEnvironment(): { [name: string]: string } {
  return {
    [CONTRACT.env.shutdownGraceS]: String(CONTRACT.stop.shutdownGraceS),
    [CONTRACT.env.scratchDir]: CONTRACT.paths.scratchDir,
    [CONTRACT.env.healthFile]: CONTRACT.paths.healthFile,
    [CONTRACT.env.tmpDir]: CONTRACT.paths.tmpDir,
    [CONTRACT.env.metricsNamespace]: CONTRACT.metrics.namespace,
  };
}

/**
 * How the worker's tasks start, stop and are replaced: the contract's stop timeout
 * (the worker drains for less), an init process, a read-only root with one writable
 * scratch volume on the task's storage (TMPDIR lies inside it: a volume at /tmp would
 * be root-owned on Fargate, as the image does not declare it), the contract's health check, a
 * task count the autoscaler owns, and kept revisions for rollbacks.
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
    autoscaled: true,
    keepRevisions: true,
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
