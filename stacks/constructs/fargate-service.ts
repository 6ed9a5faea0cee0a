import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsService, type EcsServiceConfig } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Fn, ref, Token } from "cdktf";
import { Construct } from "constructs";
import { pin } from "../pin.js";
import type { Tags } from "../tags.js";
import type { ContainerDefinition } from "./container-definition.js";

/** A container health check, as ECS runs it. */
export interface ContainerHealthCheck {
  /** The command, as ECS takes it: `["CMD", "/usr/local/bin/node", "/app/dist/healthcheck.js"]` (no shell: absolute paths). */
  readonly command: readonly string[];
  /** Seconds between checks. @default 30 */
  readonly intervalSeconds?: number;
  /** Seconds a check may take before it counts as failed. @default 5 */
  readonly timeoutSeconds?: number;
  /** Failed checks in a row that make the container unhealthy. @default 3 */
  readonly retries?: number;
  /** Seconds after the start during which failed checks do not count. @default 60 */
  readonly startPeriodSeconds?: number;
}

/** The health check timings that `ContainerHealthCheck` leaves out. */
export const HEALTH_CHECK_DEFAULTS = { intervalSeconds: 30, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 60 };

export interface FargateServiceProps {
  /**
   * Short name of the service (`backend`, `worker`). It is the container's name,
   * the log stream prefix, the last part of the log group, task family and service
   * names, and the Terraform name of the log group, task definition and service.
   */
  readonly name: string;
  /** Prefix of the log group, task family and service names (the project name). */
  readonly namePrefix: string;
  /** The cluster the service runs in. */
  readonly cluster: EcsCluster;
  /** Container image, `repository:tag` or `repository@sha256:digest`. */
  readonly image: string;
  /** Task CPU units (256, 512, 1024, ...). */
  readonly cpu: number;
  /** Task memory in MiB; must fit the CPU size on Fargate. */
  readonly memory: number;
  /** Tasks to run (with `autoscaled`, only at creation). */
  readonly desiredCount: number;
  /** The role ECS uses to start the tasks: pull the image, write logs, read `secrets`. */
  readonly executionRole: IamRole;
  /** The role the application in the container runs as. */
  readonly taskRole: IamRole;
  /** Subnets of the tasks (from outside the stack: ids). */
  readonly subnetIds: string[];
  /** Security groups of the tasks. */
  readonly securityGroups: SecurityGroup[];
  /** Region of the log group, for the awslogs driver. */
  readonly region: string;
  /** Days CloudWatch Logs keeps the log group's events (0 = never expire). */
  readonly logRetentionDays: number;
  /** Plain container variables, in order. @default - none */
  readonly environment?: { readonly [name: string]: string };
  /** Container variables read from Secrets Manager or SSM by the execution role: name → ARN. @default - none */
  readonly secrets?: { readonly [name: string]: string };
  /** Port the container listens on (TCP). @default - no port mapping */
  readonly containerPort?: number;
  /** Target group that the service registers its tasks with; needs `containerPort`. @default - no load balancer */
  readonly targetGroupArn?: string;
  /**
   * Seconds during which failing load balancer health checks are ignored after a task
   * starts; needs `targetGroupArn`. @default - ECS's (0)
   */
  readonly healthCheckGracePeriodSeconds?: number;
  /** Give tasks a public IP. @default false (tasks run in private subnets) */
  readonly assignPublicIp?: boolean;
  /** Roll a failed deployment back to the last good task definition. @default true */
  readonly circuitBreakerRollback?: boolean;
  /** Seconds ECS waits after SIGTERM before SIGKILL (2-120). @default - ECS's 30 */
  readonly stopTimeoutSeconds?: number;
  /** Run an init process as PID 1 in the container (reaps zombies, forwards signals). @default false */
  readonly initProcessEnabled?: boolean;
  /** Make the root file system read-only; pair it with `scratchVolumes`. @default false */
  readonly readonlyRootFilesystem?: boolean;
  /** Writable volumes on the task's ephemeral storage: volume name → absolute path in the container. @default - none */
  readonly scratchVolumes?: { readonly [volume: string]: string };
  /** Ephemeral storage of the task in GiB (21-200). @default - Fargate's 20 GiB */
  readonly ephemeralStorageGib?: number;
  /** Container health check. @default - none (ECS watches only whether the container runs) */
  readonly healthCheck?: ContainerHealthCheck;
  /**
   * An autoscaler owns the task count: Terraform sets `desiredCount` at creation
   * only and ignores it afterwards, so that a plan does not undo scaling. @default false
   */
  readonly autoscaled?: boolean;
  /**
   * Keep earlier task definition revisions registered when a new one is made, and
   * make the new one first: the circuit breaker can roll back to them and an operator
   * can pin one. @default false (Terraform deregisters the old revision)
   */
  readonly keepRevisions?: boolean;
  /**
   * The image's operating system and CPU architecture (`runtime_platform`): a task whose image
   * was built for another one fails at start ("exec format error"). @default - none (Fargate
   * runs LINUX on X86_64)
   */
  readonly runtimePlatform?: RuntimePlatform;
  /**
   * Terraform waits until the service is steady after a change (`wait_for_steady_state`): a
   * deployment that does not settle fails the apply after the wait's timeout. @default false
   */
  readonly waitForSteadyState?: boolean;
  /**
   * Fail the apply when, once steady, the service does not run the task definition it was
   * given: the deployment was rolled back (by the circuit breaker or a deployment alarm),
   * which Terraform would otherwise report as a success. A postcondition on the service;
   * needs `waitForSteadyState`. @default false
   */
  readonly failOnRollback?: boolean;
  /** Tags of the log group, task definition and service. @default - none */
  readonly tags?: Tags;
}

/** A task definition's `runtime_platform`, with ECS's values. */
export interface RuntimePlatform {
  /** `LINUX` (or a Windows family). */
  readonly operatingSystemFamily: string;
  /** `X86_64` or `ARM64`. */
  readonly cpuArchitecture: string;
}

/** What a Fargate service is made of. */
export interface FargateServiceParts {
  /** `aws_cloudwatch_log_group.<name>`: the container's logs. */
  readonly logGroup: CloudwatchLogGroup;
  /** `aws_ecs_task_definition.<name>`. */
  readonly taskDefinition: EcsTaskDefinition;
  /** `aws_ecs_service.<name>`. */
  readonly service: EcsService;
  /** The container definition written into the task definition. */
  readonly container: ContainerDefinition;
}

/**
 * Makes the parts of a Fargate service in `scope`: the log group, the task
 * definition with one container, and the service. `FargateService` is these parts
 * in a construct of their own; a composite that holds a service beside other
 * parts (`WorkerService`) makes them in its own scope, so that they sit at its
 * construct path (`compute/worker-service/service`), as its other parts do.
 */
export function makeFargateService(scope: Construct, props: FargateServiceProps): FargateServiceParts {
  checkProps(props);
  const logGroup = pin(
    new CloudwatchLogGroup(scope, "log-group", {
      name: `/${props.namePrefix}/${props.name}`,
      retentionInDays: props.logRetentionDays,
      tags: props.tags,
    }),
    props.name,
  );

  const container = containerDefinition(props, logGroup);
  const taskDefinition = pin(
    new EcsTaskDefinition(scope, "task-definition", {
      family: `${props.namePrefix}-${props.name}`,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: Token.asString(props.cpu),
      memory: Token.asString(props.memory),
      executionRoleArn: props.executionRole.arn,
      taskRoleArn: props.taskRole.arn,
      containerDefinitions: Fn.jsonencode([container]),
      volume: props.scratchVolumes && Object.keys(props.scratchVolumes).map((name) => ({ name })),
      ephemeralStorage: props.ephemeralStorageGib === undefined ? undefined : { sizeInGib: props.ephemeralStorageGib },
      runtimePlatform: props.runtimePlatform && { ...props.runtimePlatform },
      ...(props.keepRevisions ? { skipDestroy: true, lifecycle: { createBeforeDestroy: true } } : {}),
      tags: props.tags,
    }),
    props.name,
  );

  const loadBalancer: EcsServiceConfig["loadBalancer"] =
    props.targetGroupArn === undefined || props.containerPort === undefined
      ? undefined
      : [{ targetGroupArn: props.targetGroupArn, containerName: props.name, containerPort: props.containerPort }];

  const service = pin(
    new EcsService(scope, "service", {
      name: `${props.namePrefix}-${props.name}-service`,
      cluster: props.cluster.id,
      taskDefinition: taskDefinition.arn,
      desiredCount: props.desiredCount,
      launchType: "FARGATE",
      healthCheckGracePeriodSeconds: props.healthCheckGracePeriodSeconds,
      propagateTags: "SERVICE",
      networkConfiguration: {
        subnets: props.subnetIds,
        securityGroups: props.securityGroups.map((group) => group.id),
        assignPublicIp: props.assignPublicIp ?? false,
      },
      loadBalancer,
      deploymentCircuitBreaker: { enable: true, rollback: props.circuitBreakerRollback ?? true },
      waitForSteadyState: props.waitForSteadyState || undefined,
      lifecycle: serviceLifecycle(props, taskDefinition),
      tags: props.tags,
    }),
    props.name,
  );
  return { logGroup, taskDefinition, service, container };
}

/**
 * A Fargate service with its log group and task definition, one container:
 * `aws_cloudwatch_log_group.<name>`, `aws_ecs_task_definition.<name>`, `aws_ecs_service.<name>`.
 * Defaults: awsvpc in private subnets without public IP, tags propagated from
 * the service, deployment circuit breaker with rollback.
 */
export class FargateService extends Construct implements FargateServiceParts {
  /** `aws_cloudwatch_log_group.<name>`. */
  readonly logGroup: CloudwatchLogGroup;
  /** `aws_ecs_task_definition.<name>`. */
  readonly taskDefinition: EcsTaskDefinition;
  /** `aws_ecs_service.<name>`. */
  readonly service: EcsService;
  /** The container definition written into the task definition. */
  readonly container: ContainerDefinition;

  constructor(scope: Construct, id: string, props: FargateServiceProps) {
    super(scope, id);
    ({
      logGroup: this.logGroup,
      taskDefinition: this.taskDefinition,
      service: this.service,
      container: this.container,
    } = makeFargateService(this, props));
  }
}

/** The service's lifecycle: the task count left to an autoscaler, a rollback made an error. */
function serviceLifecycle(
  props: FargateServiceProps,
  taskDefinition: EcsTaskDefinition,
): EcsServiceConfig["lifecycle"] | undefined {
  const lifecycle = {
    ...(props.autoscaled ? { ignoreChanges: ["desired_count"] } : {}),
    ...(props.failOnRollback
      ? {
          postcondition: [
            {
              // self is the service as ECS reports it after the wait: a rollback shows the old revision.
              condition: ref(
                `self.task_definition == ${taskDefinition.terraformResourceType}.${taskDefinition.friendlyUniqueId}.arn`,
              ),
              errorMessage: `The ${props.name} service does not run the task definition it was given: ECS rolled the deployment back (its circuit breaker, or a deployment alarm). See the service's events (aws ecs describe-services), fix the cause, deploy again.`,
            },
          ],
        }
      : {}),
  };
  return Object.keys(lifecycle).length ? lifecycle : undefined;
}

/** The one container of the task (key order is the order in the synthesized JSON). */
function containerDefinition(props: FargateServiceProps, logGroup: CloudwatchLogGroup): ContainerDefinition {
  const health = props.healthCheck && { ...HEALTH_CHECK_DEFAULTS, ...props.healthCheck };
  return {
    name: props.name,
    image: props.image,
    essential: true,
    portMappings:
      props.containerPort === undefined ? undefined : [{ containerPort: props.containerPort, protocol: "tcp" }],
    environment: Object.entries(props.environment ?? {}).map(([name, value]) => ({ name, value })),
    secrets: Object.entries(props.secrets ?? {}).map(([name, valueFrom]) => ({ name, valueFrom })),
    logConfiguration: {
      logDriver: "awslogs",
      options: {
        "awslogs-group": logGroup.name,
        "awslogs-region": props.region,
        "awslogs-stream-prefix": props.name,
      },
    },
    stopTimeout: props.stopTimeoutSeconds,
    linuxParameters: props.initProcessEnabled ? { initProcessEnabled: true } : undefined,
    readonlyRootFilesystem: props.readonlyRootFilesystem || undefined,
    mountPoints:
      props.scratchVolumes &&
      Object.entries(props.scratchVolumes).map(([sourceVolume, containerPath]) => ({
        sourceVolume,
        containerPath,
        readOnly: false,
      })),
    healthCheck: health && {
      command: health.command,
      interval: health.intervalSeconds,
      timeout: health.timeoutSeconds,
      retries: health.retries,
      startPeriod: health.startPeriodSeconds,
    },
  };
}

/** A plain number (not a Terraform expression) outside [min, max]. */
const outside = (value: number | undefined, min: number, max: number) =>
  value !== undefined && !Token.isUnresolved(value) && (value < min || value > max);

function checkProps(props: FargateServiceProps): void {
  const fail = (message: string) => {
    throw new Error(`FargateService "${props.name}": ${message}`);
  };
  if (props.targetGroupArn !== undefined && props.containerPort === undefined) {
    fail("targetGroupArn needs containerPort: set containerPort to the port the target group sends to");
  }
  if (props.healthCheckGracePeriodSeconds !== undefined && props.targetGroupArn === undefined) {
    fail(
      "healthCheckGracePeriodSeconds applies to load balancer health checks only: set targetGroupArn, or drop the grace period",
    );
  }
  if (props.failOnRollback && !props.waitForSteadyState) {
    fail(
      "failOnRollback needs waitForSteadyState: without the wait, Terraform reads the service before ECS has decided, set waitForSteadyState: true",
    );
  }
  if (outside(props.stopTimeoutSeconds, 2, 120)) {
    fail(`stopTimeoutSeconds is ${props.stopTimeoutSeconds}: Fargate allows 2 to 120 seconds`);
  }
  if (outside(props.ephemeralStorageGib, 21, 200)) {
    fail(
      `ephemeralStorageGib is ${props.ephemeralStorageGib}: Fargate allows 21 to 200 GiB (leave it out for the default 20)`,
    );
  }
  for (const [volume, path] of Object.entries(props.scratchVolumes ?? {})) {
    if (!Token.isUnresolved(path) && !path.startsWith("/")) {
      fail(`scratchVolumes.${volume} is "${path}": give an absolute path in the container, such as "/${path}"`);
    }
  }
}
