/**
 * The worker's configuration, read once at start from the environment.
 * A missing or malformed variable is a ConfigError that names it; main exits 78 (EX_CONFIG).
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MediaTools } from "./analysis.js";
import { WORKER_CONTRACT } from "./contract.js";
import { maskSecrets } from "./logger.js";
import type { TaskSize } from "./task-size.js";

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

export interface Config {
  queueUrl: string;
  bucket: string;
  region: string;
  /**
   * DATABASE_URL as given (a secret: never logged). Not used by the analysis yet,
   * so it is not checked here: main reads it with parseDatabaseSetting() and only warns.
   */
  databaseSetting?: string;
  /** The environment's name (WORKER_ENVIRONMENT), the metrics' Environment dimension; unset: no such dimension. */
  environment?: string;
  /** Endpoint overrides for emulators (AWS_ENDPOINT_URL_SQS / _S3 / AWS_ENDPOINT_URL). */
  sqsEndpoint?: string;
  s3Endpoint?: string;
  /** Jobs in flight per task. */
  concurrency: number;
  /** Visibility timeout that receives ask for and heartbeats extend to, seconds. */
  visibilityTimeoutS: number;
  /** Long-poll wait of a receive, seconds (SQS allows 0..20). */
  waitTimeS: number;
  /** Time budget of one job; past it the job is cancelled and released, seconds. */
  jobTimeoutS: number;
  /** On SIGTERM/SIGINT, how long jobs in flight may still finish, seconds. */
  shutdownGraceS: number;
  /** First retry delay of a transiently failed job, doubled per attempt up to retryMaxS. */
  retryBaseS: number;
  retryMaxS: number;
  /** Where videos are downloaded and thumbnails made. */
  scratchDir: string;
  /**
   * The variable that chose the scratch directory, for error lines: WORKER_SCRATCH_DIR, or
   * TMPDIR when WORKER_SCRATCH_DIR is unset and TMPDIR is set (the default follows it).
   */
  scratchDirVariable: string;
  /** TMPDIR, for node and ffmpeg: checked writable at start like the scratch directory. */
  tmpDir: string;
  /** ffmpeg and ffprobe (WORKER_FFMPEG, WORKER_FFPROBE; PATH lookups by default). */
  tools: MediaTools;
  /** Keyframe thumbnails per video. */
  thumbnails: number;
  /** CloudWatch namespace of the Embedded Metric Format metrics. */
  metricsNamespace: string;
  /** ECS agent endpoint for task scale-in protection; unset outside ECS. */
  ecsAgentUri?: string;
  /** File that the consumer loop touches while it is alive (container health check). */
  healthFile: string;
  logLevel: "debug" | "info" | "warn" | "error";
}

/** SQS keeps a message invisible for at most 12 hours after a receive. */
export const SQS_MAX_VISIBILITY_S = 12 * 60 * 60;
/** ECS stops a container at most 120 s after SIGTERM (stopTimeout maximum). */
export const ECS_MAX_STOP_TIMEOUT_S = 120;

type Env = Record<string, string | undefined>;

function required(env: Env, name: string, hint: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, `is not set; ${hint}`);
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${echo(raw)}"`);
  }
  return Number(raw);
}

/**
 * A value quoted in an error line: at most 300 characters, the credentials of anything
 * URL-like hidden (`scheme://***@host`, even when the value does not parse as a URL).
 */
function echo(raw: string): string {
  const hidden = maskSecrets(raw);
  return hidden.length > 300 ? `${hidden.slice(0, 300)}…[cut]` : hidden;
}

function url(name: string, raw: string, protocols: string[]): URL {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL, got "${echo(raw)}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(" or ")}, got "${echo(raw)}"`);
  }
  return parsed;
}

/** Concurrency when WORKER_CONCURRENCY is unset: two jobs per vCPU, at most one per 512 MiB, at least one. */
export function defaultConcurrency(size: TaskSize): number {
  return Math.max(1, Math.min(Math.floor(size.vcpu * 2), Math.floor(size.memoryMiB / 512)));
}

export function loadConfig(env: Env, taskSize: TaskSize): Config {
  const queueUrl = required(env, "SQS_QUEUE_URL", "set it to the analysis queue's URL");
  const queuePath = url("SQS_QUEUE_URL", queueUrl, ["https:", "http:"]).pathname.split("/").filter(Boolean);
  if (queuePath.length !== 2 || !/^\d{12}$/.test(queuePath[0])) {
    throw new ConfigError(
      "SQS_QUEUE_URL",
      `must look like https://sqs.<region>.amazonaws.com/<account id>/<queue name>, got "${echo(queueUrl)}"`,
    );
  }

  const bucket = required(env, "S3_BUCKET", "set it to the videos bucket's name");
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError("S3_BUCKET", `must be a bucket name (3-63 of a-z 0-9 . -), got "${echo(bucket)}"`);
  }

  const region = required(env, "AWS_REGION", "set it to the queue's and bucket's region, e.g. us-east-2");
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new ConfigError("AWS_REGION", `must be a region name such as us-east-2, got "${echo(region)}"`);
  }

  const environment = optional(env, WORKER_CONTRACT.env.environment);
  // A CloudWatch dimension value: 1 to 255 printable characters here (CloudWatch allows 1024).
  if (environment !== undefined && !/^[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?$/.test(environment)) {
    throw new ConfigError(
      WORKER_CONTRACT.env.environment,
      `must be 1 to 255 printable ASCII characters (the environment's name, e.g. production), got "${echo(environment)}"`,
    );
  }

  const endpointAll = optional(env, "AWS_ENDPOINT_URL");
  const sqsEndpoint = optional(env, "AWS_ENDPOINT_URL_SQS") ?? endpointAll;
  const s3Endpoint = optional(env, "AWS_ENDPOINT_URL_S3") ?? endpointAll;
  if (optional(env, "AWS_ENDPOINT_URL")) url("AWS_ENDPOINT_URL", endpointAll as string, ["http:", "https:"]);
  if (optional(env, "AWS_ENDPOINT_URL_SQS")) url("AWS_ENDPOINT_URL_SQS", sqsEndpoint as string, ["http:", "https:"]);
  if (optional(env, "AWS_ENDPOINT_URL_S3")) url("AWS_ENDPOINT_URL_S3", s3Endpoint as string, ["http:", "https:"]);

  const visibilityTimeoutS = integer(env, "WORKER_VISIBILITY_TIMEOUT_S", 60, 2, SQS_MAX_VISIBILITY_S);
  const shutdownGraceS = integer(
    env,
    "WORKER_SHUTDOWN_GRACE_S",
    WORKER_CONTRACT.stop.shutdownGraceS,
    0,
    ECS_MAX_STOP_TIMEOUT_S - 5,
  );
  const retryBaseS = integer(env, "WORKER_RETRY_BASE_S", 10, 0, 3600);
  const retryMaxS = integer(env, "WORKER_RETRY_MAX_S", 900, 0, SQS_MAX_VISIBILITY_S);
  if (retryMaxS < retryBaseS) {
    throw new ConfigError(
      "WORKER_RETRY_MAX_S",
      `must be at least WORKER_RETRY_BASE_S (${retryBaseS}), got ${retryMaxS}`,
    );
  }

  const ecsAgentUri = optional(env, "ECS_AGENT_URI");
  if (ecsAgentUri !== undefined) url("ECS_AGENT_URI", ecsAgentUri, ["http:", "https:"]);

  const logLevel = optional(env, "LOG_LEVEL") ?? "info";
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    throw new ConfigError("LOG_LEVEL", `must be one of debug, info, warn, error, got "${echo(logLevel)}"`);
  }

  const tmpDir = optional(env, WORKER_CONTRACT.env.tmpDir) ?? tmpdir();
  const scratchDir = optional(env, WORKER_CONTRACT.env.scratchDir) ?? tmpDir;
  const scratchDirVariable =
    optional(env, WORKER_CONTRACT.env.scratchDir) === undefined &&
    optional(env, WORKER_CONTRACT.env.tmpDir) !== undefined
      ? WORKER_CONTRACT.env.tmpDir
      : WORKER_CONTRACT.env.scratchDir;
  return {
    queueUrl,
    bucket,
    region,
    databaseSetting: optional(env, WORKER_CONTRACT.env.databaseUrl),
    environment,
    sqsEndpoint,
    s3Endpoint,
    concurrency: integer(env, "WORKER_CONCURRENCY", defaultConcurrency(taskSize), 1, 100),
    visibilityTimeoutS,
    waitTimeS: integer(env, "WORKER_WAIT_TIME_S", 20, 0, 20),
    // The whole job, heartbeats included, must fit in SQS's 12 hours, with room to release it.
    jobTimeoutS: integer(env, "WORKER_JOB_TIMEOUT_S", 1800, 1, SQS_MAX_VISIBILITY_S - 300),
    shutdownGraceS,
    retryBaseS,
    retryMaxS,
    scratchDir,
    scratchDirVariable,
    tmpDir,
    tools: {
      ffmpeg: optional(env, "WORKER_FFMPEG") ?? "ffmpeg",
      ffprobe: optional(env, "WORKER_FFPROBE") ?? "ffprobe",
    },
    thumbnails: integer(env, "WORKER_THUMBNAILS", 3, 0, 20),
    metricsNamespace: optional(env, "WORKER_METRICS_NAMESPACE") ?? WORKER_CONTRACT.metrics.namespace,
    ecsAgentUri,
    healthFile: optional(env, WORKER_CONTRACT.env.healthFile) ?? join(scratchDir, "worker-health"),
    logLevel: logLevel as Config["logLevel"],
  };
}
