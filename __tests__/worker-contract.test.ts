/**
 * The stack and the worker read one contract (worker-src/src/contract.ts). These
 * tests fail when the synthesized task definition, the alarms or the worker's
 * image stop saying what the contract says.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ContainerDefinition } from "../stacks/constructs/container-definition.js";
import { PROJECT_ROOT } from "../tools/lib/project.js";
import { decodeJsonencode } from "../tools/lib/stack/hcl.js";
import { WORKER_CONTRACT as CONTRACT } from "../worker-src/src/contract.js";
import { createLogger } from "../worker-src/src/logger.js";
import { emitJobMetrics } from "../worker-src/src/metrics.js";
import { type SynthJson, synthCompute } from "./helpers/synth.js";

let json: SynthJson;
let worker: ContainerDefinition;

beforeAll(async () => {
  // GIVEN the default stack
  json = synthCompute().json;
  const td = json.resource.aws_ecs_task_definition.worker;
  [worker] = (await decodeJsonencode(td.container_definitions as string)) as ContainerDefinition[];
});

describe("the worker's task definition follows the contract", () => {
  it("sets the variables the worker reads to the contract's values", () => {
    const env = Object.fromEntries(worker.environment.map(({ name, value }) => [name, value]));
    expect(env).toMatchObject({
      [CONTRACT.env.shutdownGraceS]: String(CONTRACT.stop.shutdownGraceS),
      [CONTRACT.env.scratchDir]: CONTRACT.paths.scratchDir,
      [CONTRACT.env.healthFile]: CONTRACT.paths.healthFile,
      [CONTRACT.env.tmpDir]: CONTRACT.paths.tmpDir,
      [CONTRACT.env.metricsNamespace]: CONTRACT.metrics.namespace,
      // the environment's name: the worker's metrics carry it as their Environment dimension
      [CONTRACT.env.environment]: "${var.environment}",
    });
    expect(Object.keys(env)).toEqual(expect.arrayContaining([CONTRACT.env.queueUrl, CONTRACT.env.bucket]));
  });

  it("declares the contract's platform", () => {
    expect(json.resource.aws_ecs_task_definition.worker.runtime_platform).toEqual({
      operating_system_family: CONTRACT.platform.operatingSystemFamily,
      cpu_architecture: CONTRACT.platform.cpuArchitecture,
    });
  });

  it("gives ECS the contract's stop timeout, longer than the drain", () => {
    expect(worker.stopTimeout).toBe(CONTRACT.stop.stopTimeoutS);
    expect(CONTRACT.stop.shutdownGraceS).toBeLessThan(CONTRACT.stop.stopTimeoutS);
  });

  it("declares the contract's health check", () => {
    expect(worker.healthCheck).toEqual({
      command: CONTRACT.healthCheck.command,
      interval: CONTRACT.healthCheck.intervalS,
      timeout: CONTRACT.healthCheck.timeoutS,
      retries: CONTRACT.healthCheck.retries,
      startPeriod: CONTRACT.healthCheck.startPeriodS,
    });
  });

  it("mounts a writable volume at the scratch path, which holds the health file and TMPDIR", () => {
    expect(worker.mountPoints?.map((m) => m.containerPath)).toEqual([CONTRACT.paths.scratchDir]);
    expect(CONTRACT.paths.healthFile.startsWith(`${CONTRACT.paths.scratchDir}/`)).toBe(true);
    expect(CONTRACT.paths.tmpDir.startsWith(`${CONTRACT.paths.scratchDir}/`)).toBe(true);
  });
});

describe("the jobs-failing alarm reads the metric the worker writes", () => {
  it("has the contract's namespace, metric name and dimensions: Service, and Environment from the environment input", () => {
    const alarm = json.resource.aws_cloudwatch_metric_alarm.worker_jobs_failing;
    expect(alarm).toMatchObject({
      namespace: CONTRACT.metrics.namespace,
      metric_name: CONTRACT.metrics.outcomes.failed,
      dimensions: {
        [CONTRACT.metrics.serviceDimension.name]: CONTRACT.metrics.serviceDimension.value,
        [CONTRACT.metrics.environmentDimension.name]: "${var.environment}",
      },
    });
  });

  it("matches what the worker's own code writes for a failed job, given the task definition's variables", () => {
    // GIVEN the worker's variables as the task definition sets them
    const env = Object.fromEntries(worker.environment.map(({ name, value }) => [name, value]));
    const lines: string[] = [];
    // WHEN the worker's metrics code records a job that failed for good
    emitJobMetrics(
      createLogger({ write: (line) => lines.push(line) }),
      { namespace: env[CONTRACT.env.metricsNamespace], environment: env[CONTRACT.env.environment] },
      { outcome: "failed", jobId: "job-1", attempt: 3, durationMs: 1200 },
    );
    // THEN the alarm reads that metric, in that namespace, with exactly those dimensions and values
    const line = JSON.parse(lines[0]) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    };
    const [directive] = line._aws.CloudWatchMetrics;
    const alarm = json.resource.aws_cloudwatch_metric_alarm.worker_jobs_failing as {
      namespace: string;
      metric_name: string;
      dimensions: Record<string, string>;
    };
    expect(directive.Namespace).toBe(alarm.namespace);
    expect(directive.Metrics.map((m) => m.Name)).toContain(alarm.metric_name);
    expect(line[alarm.metric_name]).toBe(1);
    expect(directive.Dimensions.map((set) => [...set].sort())).toEqual([Object.keys(alarm.dimensions).sort()]);
    expect(Object.fromEntries(directive.Dimensions[0].map((name) => [name, line[name]]))).toEqual(alarm.dimensions);
  });
});

describe("the worker's Dockerfile follows the contract", () => {
  const dockerfile = readFileSync(join(PROJECT_ROOT, "worker-src", "Dockerfile"), "utf8");

  it("declares the contract's health check", () => {
    const line = /^HEALTHCHECK (.*)$/m.exec(dockerfile)?.[1] ?? "";
    const flag = (name: string) => new RegExp(`--${name}=(\\d+)s?\\b`).exec(line)?.[1];
    expect({
      interval: Number(flag("interval")),
      timeout: Number(flag("timeout")),
      startPeriod: Number(flag("start-period")),
      retries: Number(flag("retries")),
      command: JSON.parse(/CMD (\[.*\])$/.exec(line)?.[1] ?? "null"),
    }).toEqual({
      interval: CONTRACT.healthCheck.intervalS,
      timeout: CONTRACT.healthCheck.timeoutS,
      startPeriod: CONTRACT.healthCheck.startPeriodS,
      retries: CONTRACT.healthCheck.retries,
      command: CONTRACT.healthCheck.command.slice(1),
    });
  });

  it("sets the contract's paths as the image's defaults", () => {
    expect(dockerfile).toMatch(new RegExp(`${CONTRACT.env.scratchDir}=${CONTRACT.paths.scratchDir}\\b`));
    expect(dockerfile).toMatch(new RegExp(`${CONTRACT.env.healthFile}=${CONTRACT.paths.healthFile}\\b`));
    expect(dockerfile).toMatch(new RegExp(`${CONTRACT.env.tmpDir}=${CONTRACT.paths.tmpDir}\\b`));
  });
});
