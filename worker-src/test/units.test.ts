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
import { createLogger, FIELD_CAP, LINE_CAP, maskSecrets } from "../src/logger.js";
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

  it("caps every string field at 1 KB as written, marked as cut, so that a line stays small", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    const key = "k".repeat(256 * 1024);
    log.child({ videoKey: key }).error("job failed", { err: new Error(`no such key ${key}`), nested: { list: [key] } });
    expect(Buffer.byteLength(lines[0])).toBeLessThanOrEqual(LINE_CAP);
    const line = JSON.parse(lines[0]);
    expect(line.videoKey).toMatch(/^k+…\[cut, 262144 characters\]$/);
    expect(Buffer.byteLength(JSON.stringify(line.videoKey))).toBeLessThanOrEqual(FIELD_CAP);
    expect(line.err.message).toMatch(/…\[cut, \d+ characters\]$/);
    expect(line.nested.list[0]).toMatch(/…\[cut, 262144 characters\]$/);
  });

  it("measures a field by its JSON form: control characters (6 bytes each when escaped) are cut at 1 KB too", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    // A valid 1024-byte S3 key of control characters, and an error message quoting it twice.
    const key = "\u0001".repeat(1024);
    log.child({ videoKey: key }).error("job failed for good", { message: `s3://b/${key} does not exist ${key}` });
    const line = JSON.parse(lines[0]);
    expect(Buffer.byteLength(JSON.stringify(line.videoKey))).toBeLessThanOrEqual(FIELD_CAP);
    expect(Buffer.byteLength(JSON.stringify(line.message))).toBeLessThanOrEqual(FIELD_CAP);
    const [kept] = line.videoKey.split("…[cut");
    expect(line.videoKey).toBe(`${"\u0001".repeat(kept.length)}…[cut, 1024 characters]`);
    expect(Buffer.byteLength(lines[0])).toBeLessThanOrEqual(LINE_CAP);
  });

  it("never writes a line over LINE_CAP bytes: fields are cut shorter, then all but the identifying ones dropped", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    const fields = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field${i}`, "\u0002".repeat(2000)]));
    log.child({ jobId: "0000", messageId: "m-1" }).warn("x".repeat(10_000), { attempt: 3, ...fields });
    // Six fields: cut to a quarter, the line fits. Forty: only the identifying fields stay.
    log.info("six fields", Object.fromEntries(Object.entries(fields).slice(0, 6)));
    for (const l of lines) expect(Buffer.byteLength(l)).toBeLessThanOrEqual(LINE_CAP);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: "warn",
      msg: expect.stringMatching(/^x+…\[cut, 10000 characters\]$/),
      jobId: "0000",
      messageId: "m-1",
      attempt: 3,
      cut: "line over 4096 bytes: 40 fields dropped",
    });
    expect(Object.keys(JSON.parse(lines[1]))).toEqual(expect.arrayContaining(["field0", "field5"]));
  });

  it("never cuts a character in half (astral characters are two UTF-16 units)", () => {
    const lines: string[] = [];
    createLogger({ write: (l) => lines.push(l) }).info("emoji", { key: "😀".repeat(5000) });
    const { key } = JSON.parse(lines[0]);
    expect(key).toMatch(/^(😀)+…\[cut, 10000 characters\]$/u);
  });

  it("never writes a secret: secret-named fields are redacted, URL credentials masked", () => {
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
      msg: "connecting to postgresql+asyncpg://***@db.internal:5432/cricksy",
      DATABASE_URL: "[redacted]",
      password: "[redacted]",
      passwordSet: true,
      endpoint: "https://***@proxy.local/x",
    });
  });

  it.each([
    ["a slash in the password (does not parse as a URL)", "http://u:pa/S3cr3tPW@h:x", "http://***@h:x"],
    ["a raw @ in the password", "ftp://u:S3cr@tPW@h", "ftp://***@h"],
    ["several @", "http://u:a@b@S3cr3tPW@127.0.0.1:4566", "http://***@127.0.0.1:4566"],
    ["a space in the password", 'got "ftp://u:S3cr3t PW@h"', 'got "ftp://***@h"'],
    ["a token as the user", "https://ghp_S3cr3tPW@github.com/x.git", "https://***@github.com/x.git"],
    ["upper-case scheme", "HTTPS://USER:S3cr3tPW@HOST", "HTTPS://***@HOST"],
    ["two URLs", "http://a:S3cr3tPW@h1 and https://b:S3cr3tPW@h2/p", "http://***@h1 and https://***@h2/p"],
    [
      "a password as a query parameter",
      "postgresql://app@db/x?sslmode=require&password=S3cr3tPW",
      "postgresql://***@db/x?sslmode=require&password=***",
    ],
    [
      "a presigned URL",
      "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA/S3cr3tPW&X-Amz-Signature=S3cr3tPW",
      "https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***",
    ],
  ])("masks credentials in URL-like text: %s", (_name, text, masked) => {
    expect(maskSecrets(text)).toBe(masked);
    expect(maskSecrets(text)).not.toContain("S3cr3tPW");
  });

  it("leaves S3 keys with an @ alone (s3:// never carries credentials) and text without a scheme", () => {
    expect(maskSecrets("s3://bucket/uploads/ana@example.com/v.mp4 does not exist")).toBe(
      "s3://bucket/uploads/ana@example.com/v.mp4 does not exist",
    );
    expect(maskSecrets("uploads/ana@example.com/v.mp4")).toBe("uploads/ana@example.com/v.mp4");
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
