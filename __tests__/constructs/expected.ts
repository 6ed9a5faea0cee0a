/**
 * Expected parts of synthesized task definitions, shared by the construct tests
 * and the stack's synth test: what the worker's contract asks of its container,
 * and the awslogs configuration every container gets.
 */
import type { ContainerDefinition } from "../../stacks/constructs/container-definition.js";
import { WORKER_CONTRACT as CONTRACT } from "../../worker-src/src/contract.js";

/** The worker container's settings that come from the contract (all but the shared variables). */
export const CONTRACT_CONTAINER = {
  stopTimeout: CONTRACT.stop.stopTimeoutS,
  linuxParameters: { initProcessEnabled: true },
  readonlyRootFilesystem: true,
  mountPoints: [{ sourceVolume: "scratch", containerPath: CONTRACT.paths.scratchDir, readOnly: false }],
  healthCheck: {
    command: CONTRACT.healthCheck.command,
    interval: CONTRACT.healthCheck.intervalS,
    timeout: CONTRACT.healthCheck.timeoutS,
    retries: CONTRACT.healthCheck.retries,
    startPeriod: CONTRACT.healthCheck.startPeriodS,
  },
} satisfies Partial<ContainerDefinition>;

/** The variables through which the worker reads the contract, after the shared ones, for environment `environment`. */
export function contractEnvironment(environment: string): ContainerDefinition["environment"] {
  return [
    { name: CONTRACT.env.shutdownGraceS, value: String(CONTRACT.stop.shutdownGraceS) },
    { name: CONTRACT.env.scratchDir, value: CONTRACT.paths.scratchDir },
    { name: CONTRACT.env.healthFile, value: CONTRACT.paths.healthFile },
    { name: CONTRACT.env.tmpDir, value: CONTRACT.paths.tmpDir },
    { name: CONTRACT.env.metricsNamespace, value: CONTRACT.metrics.namespace },
    { name: CONTRACT.env.environment, value: environment },
  ];
}

/** The worker task definition's runtime platform: the contract's. */
export const CONTRACT_RUNTIME_PLATFORM = {
  operating_system_family: CONTRACT.platform.operatingSystemFamily,
  cpu_architecture: CONTRACT.platform.cpuArchitecture,
};

/** The awslogs configuration of service `name`'s container: its log group, region and stream prefix. */
export function awslogs(name: string, region: string): ContainerDefinition["logConfiguration"] {
  return {
    logDriver: "awslogs",
    options: {
      "awslogs-group": `\${aws_cloudwatch_log_group.${name}.name}`,
      "awslogs-region": region,
      "awslogs-stream-prefix": name,
    },
  };
}

/** Task definition arguments that only optional settings write. */
export const OPTIONAL_TASK_ARGUMENTS = ["volume", "ephemeral_storage", "skip_destroy", "lifecycle", "runtime_platform"];

/** Service arguments that only optional settings write. */
export const OPTIONAL_SERVICE_ARGUMENTS = ["lifecycle", "wait_for_steady_state", "alarms"];
