import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, defaultConcurrency, loadConfig } from "../src/config.js";

const size = { vcpu: 1, memoryMiB: 2048, source: "machine" as const };
const base = {
  SQS_QUEUE_URL: "https://sqs.us-east-2.amazonaws.com/123456789012/cricksy-ai-analysis-jobs",
  S3_BUCKET: "cricksy-ai-videos-prod",
  AWS_REGION: "us-east-2",
};

function errorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env, size);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("loadConfig accepted the environment");
}

describe("loadConfig", () => {
  it("takes the legacy task definition's variables and documented defaults", () => {
    expect(loadConfig(base, size)).toMatchObject({
      queueUrl: base.SQS_QUEUE_URL,
      bucket: "cricksy-ai-videos-prod",
      region: "us-east-2",
      databaseSetting: undefined,
      environment: undefined,
      scratchDir: tmpdir(),
      tmpDir: tmpdir(),
      healthFile: join(tmpdir(), "worker-health"),
      tools: { ffmpeg: "ffmpeg", ffprobe: "ffprobe" },
      sqsEndpoint: undefined,
      s3Endpoint: undefined,
      concurrency: 2,
      visibilityTimeoutS: 60,
      waitTimeS: 20,
      shutdownGraceS: 100,
      jobTimeoutS: 1800,
      ecsAgentUri: undefined,
    });
  });

  it("reads the endpoint overrides: per service first, then AWS_ENDPOINT_URL", () => {
    expect(loadConfig({ ...base, AWS_ENDPOINT_URL: "http://127.0.0.1:4566" }, size)).toMatchObject({
      sqsEndpoint: "http://127.0.0.1:4566",
      s3Endpoint: "http://127.0.0.1:4566",
    });
    expect(
      loadConfig(
        { ...base, AWS_ENDPOINT_URL: "http://127.0.0.1:4566", AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9000" },
        size,
      ),
    ).toMatchObject({ sqsEndpoint: "http://127.0.0.1:4566", s3Endpoint: "http://127.0.0.1:9000" });
  });

  it.each([
    [{ SQS_QUEUE_URL: undefined }, "SQS_QUEUE_URL", "SQS_QUEUE_URL: is not set; set it to the analysis queue's URL"],
    [{ SQS_QUEUE_URL: "cricksy-ai-analysis-jobs" }, "SQS_QUEUE_URL", 'must be a URL, got "cricksy-ai-analysis-jobs"'],
    [{ SQS_QUEUE_URL: "https://sqs.us-east-2.amazonaws.com/jobs" }, "SQS_QUEUE_URL", "<account id>/<queue name>"],
    [{ S3_BUCKET: "  " }, "S3_BUCKET", "S3_BUCKET: is not set"],
    [{ S3_BUCKET: "Cricksy_Videos" }, "S3_BUCKET", 'must be a bucket name (3-63 of a-z 0-9 . -), got "Cricksy_Videos"'],
    [{ AWS_REGION: undefined }, "AWS_REGION", "AWS_REGION: is not set"],
    [{ AWS_REGION: "Ohio" }, "AWS_REGION", 'must be a region name such as us-east-2, got "Ohio"'],
    [{ WORKER_ENVIRONMENT: "x".repeat(256) }, "WORKER_ENVIRONMENT", "1 to 255 printable ASCII characters"],
    [{ WORKER_ENVIRONMENT: "prod\u0007" }, "WORKER_ENVIRONMENT", "1 to 255 printable ASCII characters"],
    [{ WORKER_CONCURRENCY: "abc" }, "WORKER_CONCURRENCY", 'must be a whole number from 1 to 100, got "abc"'],
    [{ WORKER_CONCURRENCY: "0" }, "WORKER_CONCURRENCY", "from 1 to 100"],
    [{ WORKER_VISIBILITY_TIMEOUT_S: "43201" }, "WORKER_VISIBILITY_TIMEOUT_S", "from 2 to 43200"],
    [{ WORKER_SHUTDOWN_GRACE_S: "120" }, "WORKER_SHUTDOWN_GRACE_S", "from 0 to 115"],
    [{ WORKER_SHUTDOWN_GRACE_S: "1.5" }, "WORKER_SHUTDOWN_GRACE_S", 'got "1.5"'],
    [{ WORKER_RETRY_BASE_S: "60", WORKER_RETRY_MAX_S: "10" }, "WORKER_RETRY_MAX_S", "at least WORKER_RETRY_BASE_S"],
    [{ AWS_ENDPOINT_URL_SQS: "localhost:4566" }, "AWS_ENDPOINT_URL_SQS", "must start with http:// or https://"],
    [{ LOG_LEVEL: "verbose" }, "LOG_LEVEL", "must be one of debug, info, warn, error"],
  ])("rejects %o naming %s", (override, variable, message) => {
    const error = errorOf({ ...base, ...override });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(message);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
  });
});

describe("variables the worker does not use yet, and its environment", () => {
  it.each([
    "mysql://app:hunter2@db/x",
    "postgresql+asyncpg://app:hunter2@db/x",
    '{"username":"app","password":"hunter2"}',
    "not a url at all",
  ])("never refuses to start over DATABASE_URL (%s), and keeps it out of every message", (value) => {
    const config = loadConfig({ ...base, DATABASE_URL: value }, size);
    expect(config.databaseSetting).toBe(value);
  });

  it.each([
    ["a slash in the password (not a URL)", { AWS_ENDPOINT_URL: "http://u:pa/S3cr3tPW@h:x" }, "S3cr3tPW"],
    ["a raw @ in the password", { AWS_ENDPOINT_URL: "ftp://u:S3cr@tPW@h" }, "tPW"],
    ["a space in the password", { AWS_ENDPOINT_URL: "ftp://u:S3cr3t PW@h" }, "PW@"],
    ["a percent-encoded @", { AWS_ENDPOINT_URL_S3: "ftp://u:S3cr%40tPW@h" }, "tPW"],
    ["a URL in WORKER_ENVIRONMENT", { WORKER_ENVIRONMENT: "http://u:S3cr3tPW@h\u0001" }, "S3cr3tPW"],
  ])("keeps every fragment of a password out of an error line: %s", (_name, env, fragment) => {
    const error = errorOf({ ...base, ...env });
    expect(error.message).toContain("***@");
    expect(error.message).not.toContain(fragment);
  });

  it("hides a URL's password in an error line", () => {
    const error = errorOf({ ...base, AWS_ENDPOINT_URL_SQS: "ftp://admin:hunter2@proxy.local" });
    expect(error.message).toBe(
      'AWS_ENDPOINT_URL_SQS: must start with http:// or https://, got "ftp://***@proxy.local"',
    );
  });

  it("reads WORKER_ENVIRONMENT, TMPDIR, the scratch directory and the media tools", () => {
    expect(
      loadConfig(
        {
          ...base,
          WORKER_ENVIRONMENT: "production",
          WORKER_SCRATCH_DIR: "/scratch",
          TMPDIR: "/scratch/tmp",
          WORKER_FFMPEG: "/opt/ffmpeg/bin/ffmpeg",
        },
        size,
      ),
    ).toMatchObject({
      environment: "production",
      scratchDir: "/scratch",
      tmpDir: "/scratch/tmp",
      healthFile: "/scratch/worker-health",
      tools: { ffmpeg: "/opt/ffmpeg/bin/ffmpeg", ffprobe: "ffprobe" },
    });
  });

  it("names TMPDIR, not WORKER_SCRATCH_DIR, for a scratch directory that follows TMPDIR", () => {
    expect(loadConfig({ ...base, TMPDIR: "/data/tmp" }, size)).toMatchObject({
      scratchDir: "/data/tmp",
      scratchDirVariable: "TMPDIR",
    });
    expect(loadConfig({ ...base, WORKER_SCRATCH_DIR: "/scratch", TMPDIR: "/t" }, size)).toMatchObject({
      scratchDirVariable: "WORKER_SCRATCH_DIR",
    });
  });
});

describe("defaultConcurrency", () => {
  it("runs two jobs per vCPU, at most one per 512 MiB, at least one", () => {
    expect(defaultConcurrency({ vcpu: 0.25, memoryMiB: 512, source: "ecs-metadata" })).toBe(1);
    expect(defaultConcurrency({ vcpu: 0.5, memoryMiB: 1024, source: "ecs-metadata" })).toBe(1);
    expect(defaultConcurrency({ vcpu: 1, memoryMiB: 2048, source: "ecs-metadata" })).toBe(2);
    expect(defaultConcurrency({ vcpu: 4, memoryMiB: 8192, source: "ecs-metadata" })).toBe(8);
    expect(defaultConcurrency({ vcpu: 4, memoryMiB: 2048, source: "ecs-metadata" })).toBe(4);
  });
});
