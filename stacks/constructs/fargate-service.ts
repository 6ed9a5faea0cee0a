import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsService, type EcsServiceConfig } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { pin } from "../pin.js";

export interface FargateServiceProps {
  /**
   * Short name of the service (`backend`, `worker`). It is the container's name,
   * the log stream prefix, the last part of the log group, task family and service
   * names, and the Terraform name of the log group, task definition and service.
   */
  readonly name: string;
  /** Prefix of the log group, task family and service names (the project name). */
  readonly namePrefix: string;
  /** Cluster (id or ARN) to run in. */
  readonly cluster: string;
  /** Container image, `repository:tag`. */
  readonly image: string;
  /** Task CPU units (256, 512, 1024, ...). */
  readonly cpu: number;
  /** Task memory in MiB; must fit the CPU size on Fargate. */
  readonly memory: number;
  readonly desiredCount: number;
  readonly executionRoleArn: string;
  readonly taskRoleArn: string;
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  /** Region of the log group, for the awslogs driver. */
  readonly region: string;
  readonly logRetentionDays: number;
  /** Plain container variables, in order. */
  readonly environment?: { [name: string]: string };
  /** Container variables read from Secrets Manager or SSM by the execution role: name -> ARN. */
  readonly secrets?: { [name: string]: string };
  /** Port the container listens on, if any (TCP). */
  readonly containerPort?: number;
  /** Target group that the service registers its tasks with; needs `containerPort`. */
  readonly targetGroupArn?: string;
  /** Seconds during which failing load balancer health checks are ignored after a task starts. */
  readonly healthCheckGracePeriodSeconds?: number;
  /** Give tasks a public IP. Default: false (tasks run in private subnets). */
  readonly assignPublicIp?: boolean;
  /** Roll a failed deployment back to the last good task definition. Default: true. */
  readonly circuitBreakerRollback?: boolean;
  /** Seconds ECS waits after SIGTERM before SIGKILL (2-120). Default: ECS's 30. */
  readonly stopTimeoutSeconds?: number;
  /** Run an init process as PID 1 in the container (reaps zombies, forwards signals). Default: false. */
  readonly initProcessEnabled?: boolean;
  /** Make the root file system read-only; pair it with `scratchVolumes`. Default: false. */
  readonly readonlyRootFilesystem?: boolean;
  /** Writable volumes on the task's ephemeral storage: volume name -> path in the container. */
  readonly scratchVolumes?: { [name: string]: string };
  /** Ephemeral storage of the task in GiB (21-200). Default: Fargate's 20 GiB. */
  readonly ephemeralStorageGib?: number;
  /** Container health check; the command as ECS takes it, e.g. ["CMD", "node", "check.js"]. */
  readonly healthCheck?: {
    command: string[];
    intervalSeconds?: number;
    timeoutSeconds?: number;
    retries?: number;
    startPeriodSeconds?: number;
  };
  /**
   * An autoscaler owns the task count: Terraform sets `desiredCount` at creation
   * only and ignores it afterwards, so that a plan does not undo scaling. Default: false.
   */
  readonly autoscaled?: boolean;
  /**
   * Keep earlier task definition revisions registered when a new one is made, and
   * make the new one first: the circuit breaker can roll back to them and an operator
   * can pin one. Default: false (Terraform deregisters the old revision).
   */
  readonly keepRevisions?: boolean;
  readonly tags?: { [key: string]: string };
}

/**
 * A Fargate service with its log group and task definition, one container:
 * `aws_cloudwatch_log_group.<name>`, `aws_ecs_task_definition.<name>`, `aws_ecs_service.<name>`.
 * Defaults: awsvpc in private subnets without public IP, tags propagated from
 * the service, deployment circuit breaker with rollback.
 */
export class FargateService extends Construct {
  readonly logGroup: CloudwatchLogGroup;
  readonly taskDefinition: EcsTaskDefinition;
  readonly service: EcsService;

  constructor(scope: Construct, id: string, props: FargateServiceProps) {
    super(scope, id);
    if (props.targetGroupArn !== undefined && props.containerPort === undefined) {
      throw new Error(
        `FargateService "${props.name}": targetGroupArn needs containerPort, the port the target group sends to`,
      );
    }

    this.logGroup = pin(
      new CloudwatchLogGroup(this, "log-group", {
        name: `/${props.namePrefix}/${props.name}`,
        retentionInDays: props.logRetentionDays,
        tags: props.tags,
      }),
      props.name,
    );

    const container: Record<string, unknown> = {
      name: props.name,
      image: props.image,
      essential: true,
      ...(props.containerPort === undefined
        ? {}
        : { portMappings: [{ containerPort: props.containerPort, protocol: "tcp" }] }),
      environment: Object.entries(props.environment ?? {}).map(([name, value]) => ({ name, value })),
      secrets: Object.entries(props.secrets ?? {}).map(([name, valueFrom]) => ({ name, valueFrom })),
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": this.logGroup.name,
          "awslogs-region": props.region,
          "awslogs-stream-prefix": props.name,
        },
      },
      ...(props.stopTimeoutSeconds === undefined ? {} : { stopTimeout: props.stopTimeoutSeconds }),
      ...(props.initProcessEnabled ? { linuxParameters: { initProcessEnabled: true } } : {}),
      ...(props.readonlyRootFilesystem ? { readonlyRootFilesystem: true } : {}),
      ...(props.scratchVolumes
        ? {
            mountPoints: Object.entries(props.scratchVolumes).map(([sourceVolume, containerPath]) => ({
              sourceVolume,
              containerPath,
              readOnly: false,
            })),
          }
        : {}),
      ...(props.healthCheck
        ? {
            healthCheck: {
              command: props.healthCheck.command,
              interval: props.healthCheck.intervalSeconds ?? 30,
              timeout: props.healthCheck.timeoutSeconds ?? 5,
              retries: props.healthCheck.retries ?? 3,
              startPeriod: props.healthCheck.startPeriodSeconds ?? 60,
            },
          }
        : {}),
    };

    this.taskDefinition = pin(
      new EcsTaskDefinition(this, "task-definition", {
        family: `${props.namePrefix}-${props.name}`,
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: Token.asString(props.cpu),
        memory: Token.asString(props.memory),
        executionRoleArn: props.executionRoleArn,
        taskRoleArn: props.taskRoleArn,
        containerDefinitions: Fn.jsonencode([container]),
        ...(props.scratchVolumes ? { volume: Object.keys(props.scratchVolumes).map((name) => ({ name })) } : {}),
        ...(props.ephemeralStorageGib === undefined
          ? {}
          : { ephemeralStorage: { sizeInGib: props.ephemeralStorageGib } }),
        ...(props.keepRevisions ? { skipDestroy: true, lifecycle: { createBeforeDestroy: true } } : {}),
        tags: props.tags,
      }),
      props.name,
    );

    const loadBalancer: EcsServiceConfig["loadBalancer"] =
      props.targetGroupArn === undefined
        ? undefined
        : [
            {
              targetGroupArn: props.targetGroupArn,
              containerName: props.name,
              containerPort: props.containerPort as number,
            },
          ];

    this.service = pin(
      new EcsService(this, "service", {
        name: `${props.namePrefix}-${props.name}-service`,
        cluster: props.cluster,
        taskDefinition: this.taskDefinition.arn,
        desiredCount: props.desiredCount,
        launchType: "FARGATE",
        healthCheckGracePeriodSeconds: props.healthCheckGracePeriodSeconds,
        propagateTags: "SERVICE",
        networkConfiguration: {
          subnets: props.subnetIds,
          securityGroups: props.securityGroupIds,
          assignPublicIp: props.assignPublicIp ?? false,
        },
        loadBalancer,
        deploymentCircuitBreaker: { enable: true, rollback: props.circuitBreakerRollback ?? true },
        ...(props.autoscaled ? { lifecycle: { ignoreChanges: ["desired_count"] } } : {}),
        tags: props.tags,
      }),
      props.name,
    );
  }
}
