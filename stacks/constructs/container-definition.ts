/**
 * The container definition that `FargateService` writes into
 * `aws_ecs_task_definition.container_definitions` (as `jsonencode([...])`): the
 * part of ECS's `ContainerDefinition` this project uses, with ECS's own field
 * names. Tests decode the synthesized definition into this type.
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html
 */
export interface ContainerDefinition {
  /** The container's name: the service's short name. */
  readonly name: string;
  /** Image, `repository:tag` or `repository@sha256:digest`. */
  readonly image: string;
  /** The task stops when this container stops. */
  readonly essential: boolean;
  /** Ports the container listens on. @default - none */
  readonly portMappings?: readonly PortMapping[];
  /** Plain variables, in order. */
  readonly environment: readonly { readonly name: string; readonly value: string }[];
  /** Variables that the execution role reads from Secrets Manager or SSM at start. */
  readonly secrets: readonly { readonly name: string; readonly valueFrom: string }[];
  /** Where stdout and stderr go: the awslogs driver to the service's log group. */
  readonly logConfiguration: LogConfiguration;
  /** Seconds between SIGTERM and SIGKILL. @default - ECS's 30 */
  readonly stopTimeout?: number;
  /** Linux settings: `initProcessEnabled` runs an init process as PID 1. @default - no init process */
  readonly linuxParameters?: { readonly initProcessEnabled: boolean };
  /** A read-only root file system. @default - writable (false) */
  readonly readonlyRootFilesystem?: boolean;
  /** Task volumes mounted into the container. @default - none */
  readonly mountPoints?: readonly MountPoint[];
  /** The container health check. @default - none */
  readonly healthCheck?: HealthCheck;
}

/** A port the container listens on. */
export interface PortMapping {
  /** The port in the container (awsvpc: also the task's). */
  readonly containerPort: number;
  /** The protocol. */
  readonly protocol: "tcp" | "udp";
}

/** The awslogs log driver's configuration. */
export interface LogConfiguration {
  /** The driver: always awslogs here. */
  readonly logDriver: "awslogs";
  /** Where the logs go. */
  readonly options: {
    /** The log group's name. */
    readonly "awslogs-group": string;
    /** The log group's region. */
    readonly "awslogs-region": string;
    /** Streams are `<prefix>/<container>/<task id>`. */
    readonly "awslogs-stream-prefix": string;
  };
}

/** A task volume mounted into the container. */
export interface MountPoint {
  /** The task volume's name. */
  readonly sourceVolume: string;
  /** Where it appears in the container. */
  readonly containerPath: string;
  /** Whether the container may only read it. */
  readonly readOnly: boolean;
}

/** A container health check, in seconds, as ECS takes it. */
export interface HealthCheck {
  /** `["CMD", …]` (run without a shell) or `["CMD-SHELL", "…"]`. */
  readonly command: readonly string[];
  /** Seconds between checks. */
  readonly interval: number;
  /** Seconds a check may take. */
  readonly timeout: number;
  /** Failed checks in a row that make the container unhealthy. */
  readonly retries: number;
  /** Seconds after the start during which failures do not count. */
  readonly startPeriod: number;
}
