/** Small modules alone: storage's conditional write, backoff, logs and metrics, liveness. */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it, vi } from "vitest";
import { WORKER_CONTRACT } from "../src/contract.js";
import { backoffSeconds } from "../src/errors.js";
import { Liveness, livenessAgeS } from "../src/health.js";
import { createLogger, FIELD_CAP } from "../src/logger.js";
import { emitJobMetrics } from "../src/metrics.js";
import { VideoStorage } from "../src/storage.js";
import { WORKER_ROOT } from "./helpers/worker-process.js";

const exec = promisify(execFile);

describe("VideoStorage.putJson", () => {
  it("writes result.json only if absent (If-None-Match: *) and says false when S3 answers 412", async () => {
    // A fake S3 client (unit test): fauxqs ignores If-None-Match, real S3 answers 412.
    const send = vi.fn(async (command: { input: Record<string, unknown> }) => {
      if (command.input.IfNoneMatch === "*") {
        throw Object.assign(new Error("At least one of the pre-conditions you specified did not hold"), {
          name: "PreconditionFailed",
          $metadata: { httpStatusCode: 412 },
        });
      }
      return {};
    });
    const storage = new VideoStorage({ send } as unknown as S3Client, "videos");
    expect(await storage.putJson("analysis/x/result.json", { a: 1 }, { onlyIfAbsent: true })).toBe(false);
    expect(send.mock.calls[0][0].input).toMatchObject({
      Bucket: "videos",
      Key: "analysis/x/result.json",
      IfNoneMatch: "*",
      ContentType: "application/json",
    });
    expect(await storage.putJson("analysis/x/error.json", { a: 1 })).toBe(true);
    expect(send.mock.calls[1][0].input.IfNoneMatch).toBeUndefined();
  });

  it("does not take other failures for an existing result", async () => {
    const send = vi.fn(async () => {
      throw Object.assign(new Error("Access Denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
    });
    const storage = new VideoStorage({ send } as unknown as S3Client, "videos");
    await expect(storage.putJson("k", {}, { onlyIfAbsent: true })).rejects.toThrow("Access Denied");
  });
});

describe("backoffSeconds", () => {
  it("doubles per attempt with jitter in the upper half, capped", () => {
    expect(backoffSeconds(1, 10, 900, () => 0)).toBe(5);
    expect(backoffSeconds(1, 10, 900, () => 1)).toBe(10);
    expect(backoffSeconds(3, 10, 900, () => 1)).toBe(40);
    expect(backoffSeconds(3, 10, 900, () => 0)).toBe(20);
    expect(backoffSeconds(20, 10, 900, () => 1)).toBe(900);
    expect(backoffSeconds(5, 0, 0, () => 1)).toBe(0);
  });
});

describe("logs", () => {
  it("writes one JSON object per line with time, level, msg, base and child fields, errors as fields", () => {
    const lines: string[] = [];
    const log = createLogger({
      level: "info",
      write: (l) => lines.push(l),
      now: () => new Date("2026-11-29T10:00:00.000Z"),
      base: { version: "1.2.3" },
    });
    log.debug("hidden");
    log
      .child({ jobId: "j-1" })
      .warn("heartbeat failed", { err: Object.assign(new Error("boom"), { code: "ECONNRESET" }) });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toEqual({
      time: "2026-11-29T10:00:00.000Z",
      level: "warn",
      msg: "heartbeat failed",
      service: "worker",
      version: "1.2.3",
      jobId: "j-1",
      err: { name: "Error", message: "boom", code: "ECONNRESET" },
    });
  });

  it("emits Embedded Metric Format documents that name each metric they carry", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    emitJobMetrics(
      log,
      { namespace: "Cricksy/Worker", environment: "staging" },
      { outcome: "failed", jobId: "j", attempt: 2, durationMs: 1500 },
      1_700_000_000_000,
    );
    const doc = JSON.parse(lines[0]);
    expect(doc).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: "Cricksy/Worker",
            Dimensions: [["Service", "Environment"]],
            Metrics: [
              { Name: "JobsFailed", Unit: "Count" },
              { Name: "JobDuration", Unit: "Milliseconds" },
            ],
          },
        ],
      },
      Service: "worker",
      Environment: "staging",
      JobsFailed: 1,
      JobDuration: 1500,
      outcome: "failed",
      jobId: "j",
      attempt: 2,
    });
    // Every metric and dimension named in the directive has a value at the root, as the EMF specification requires.
    for (const { Name } of doc._aws.CloudWatchMetrics[0].Metrics) expect(typeof doc[Name]).toBe("number");
    for (const name of doc._aws.CloudWatchMetrics[0].Dimensions[0]) expect(typeof doc[name]).toBe("string");
  });

  it("writes the failed-jobs metric where the stack's alarm reads it (the contract), per environment", () => {
    const lines: string[] = [];
    const { namespace, outcomes, serviceDimension, environmentDimension } = WORKER_CONTRACT.metrics;
    emitJobMetrics(
      createLogger({ write: (l) => lines.push(l) }),
      { namespace, environment: "production" },
      {
        outcome: "failed",
        attempt: 1,
        durationMs: 1,
      },
    );
    const doc = JSON.parse(lines[0]);
    const [directive] = doc._aws.CloudWatchMetrics;
    expect(directive.Namespace).toBe(namespace);
    expect(directive.Dimensions).toEqual([[serviceDimension.name, environmentDimension.name]]);
    expect(doc[serviceDimension.name]).toBe(serviceDimension.value);
    expect(doc[environmentDimension.name]).toBe("production");
    expect(directive.Metrics.map((m: { Name: string }) => m.Name)).toContain(outcomes.failed);
    expect(doc[outcomes.failed]).toBe(1);
  });

  it("carries Service alone when the environment is unset (a local run)", () => {
    const lines: string[] = [];
    const { namespace, serviceDimension, environmentDimension } = WORKER_CONTRACT.metrics;
    emitJobMetrics(
      createLogger({ write: (l) => lines.push(l) }),
      { namespace },
      {
        outcome: "succeeded",
        attempt: 1,
        durationMs: 1,
      },
    );
    const doc = JSON.parse(lines[0]);
    expect(doc._aws.CloudWatchMetrics[0].Dimensions).toEqual([[serviceDimension.name]]);
    expect(doc).not.toHaveProperty(environmentDimension.name);
  });

  it("caps every string field at 1 KB, marked as cut, so that a line stays small", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    const key = "k".repeat(256 * 1024);
    log.child({ videoKey: key }).error("job failed", { err: new Error(`no such key ${key}`), nested: { list: [key] } });
    expect(lines[0].length).toBeLessThan(5 * FIELD_CAP);
    const line = JSON.parse(lines[0]);
    expect(line.videoKey).toBe(`${"k".repeat(FIELD_CAP)}…[cut, ${256 * 1024} characters]`);
    expect(line.err.message).toMatch(/…\[cut, \d+ characters\]$/);
    expect(line.nested.list[0]).toMatch(/…\[cut, 262144 characters\]$/);
  });

  it("never writes a secret: secret-named fields are redacted, URL passwords masked", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    log.info("connecting to postgresql+asyncpg://app:hunter2@db.internal:5432/cricksy", {
      DATABASE_URL: "postgres://app:hunter2@db/cricksy",
      password: "hunter2",
      clientSecret: "hunter2",
      passwordSet: true,
      endpoint: "https://user:hunter2@proxy.local/x",
    });
    expect(lines[0]).not.toContain("hunter2");
    expect(JSON.parse(lines[0])).toMatchObject({
      msg: "connecting to postgresql+asyncpg://app:***@db.internal:5432/cricksy",
      DATABASE_URL: "[redacted]",
      password: "[redacted]",
      passwordSet: true,
      endpoint: "https://user:***@proxy.local/x",
    });
  });
});

describe("liveness and the container health check", () => {
  const dir = mkdtempSync(join(tmpdir(), "cricksy-health-"));
  const healthcheck = (file: string) =>
    exec(process.execPath, [join(WORKER_ROOT, "dist", "healthcheck.js")], {
      env: { WORKER_HEALTH_FILE: file, WORKER_HEALTH_MAX_AGE_S: "90" },
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );

  it("is healthy right after a beat", async () => {
    const file = join(dir, "fresh");
    new Liveness(file).beat();
    expect(await healthcheck(file)).toMatchObject({ code: 0, stdout: expect.stringContaining("healthy") });
  });

  it("is unhealthy when the loop stalled past the limit, or never beat", async () => {
    const file = join(dir, "stale");
    writeFileSync(file, `${Date.now() - 120_000}\n`);
    expect(await healthcheck(file)).toEqual({
      code: 1,
      stdout: "unhealthy: the consumer loop has been stalled for 120 s (limit 90 s)\n",
    });
    expect(await healthcheck(join(dir, "missing"))).toMatchObject({
      code: 1,
      stdout: expect.stringContaining("no liveness record"),
    });
  });

  it("reads ages", () => {
    expect(livenessAgeS("1000\n", 6000)).toBe(5);
    expect(livenessAgeS("", 6000)).toBeUndefined();
    expect(livenessAgeS("garbage", 6000)).toBeUndefined();
  });
});
