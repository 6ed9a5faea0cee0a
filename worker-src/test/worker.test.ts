/**
 * The built worker process (`node dist/main.js`) against fauxqs and real ffmpeg:
 * failures, crashes, signals, redelivery, the dead-letter queue, configuration.
 */
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator, waitFor } from "./helpers/emulator.js";
import { makeVideo } from "./helpers/videos.js";
import { type LogLine, startWorker, type WorkerProcess } from "./helpers/worker-process.js";

const SHORT = () => makeVideo({ seconds: 4, width: 320, height: 240, fps: 25 });
/** About 3 s of work: a 57 MB 720p minute and 20 thumbnails. */
const LONG = () => makeVideo({ seconds: 60, width: 1280, height: 720, fps: 30 });
const LONG_JOB = { WORKER_THUMBNAILS: "20" };

const jobId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

let emulator: Emulator;
const workers: WorkerProcess[] = [];
const worker = (env: Record<string, string> = {}) => {
  const w = startWorker({ ...emulator.env, WORKER_RETRY_BASE_S: "1", WORKER_RETRY_MAX_S: "2", ...env });
  workers.push(w);
  return w;
};
const started = (w: WorkerProcess) => w.waitForLog((l) => l.msg === "worker started", 10_000, "start");
const logged = (w: WorkerProcess, msg: string, extra: (l: LogLine) => boolean = () => true, timeoutMs = 30_000) =>
  w.waitForLog((l) => l.msg === msg && extra(l), timeoutMs, `"${msg}"`);

/** maxReceiveCount of the queue's redrive policy; the dead-letter tests lower it. */
let receiveLimit = 5;
beforeEach(async () => {
  emulator = await startEmulator({ maxReceiveCount: receiveLimit });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop("SIGKILL")));
  await emulator.stop();
});

describe("results", () => {
  it("logs JSON lines with jobId and attempt, and per-job metrics in Embedded Metric Format", async () => {
    const w = worker();
    await started(w);
    await emulator.putObject("uploads/a.mp4", SHORT());
    await emulator.sendJob({ jobId: jobId(1), videoKey: "uploads/a.mp4" });
    const succeeded = await logged(w, "job succeeded");
    expect(succeeded).toMatchObject({ level: "info", jobId: jobId(1), attempt: 1, thumbnails: 3 });
    expect(typeof succeeded.durationMs).toBe("number");
    for (const msg of ["job started", "video downloaded", "video probed", "keyframe extracted"]) {
      expect(w.lines.find((l) => l.msg === msg)).toMatchObject({ jobId: jobId(1), attempt: 1 });
    }
    const metrics = await w.waitForLog((l) => l._aws !== undefined, 5000, "an EMF line");
    expect(metrics).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: "Cricksy/Worker",
            Dimensions: [["Service"]],
            Metrics: [
              { Name: "JobsSucceeded", Unit: "Count" },
              { Name: "JobDuration", Unit: "Milliseconds" },
              { Name: "QueueWait", Unit: "Milliseconds" },
            ],
          },
        ],
      },
      Service: "worker",
      JobsSucceeded: 1,
      jobId: jobId(1),
    });
    expect(w.other).toEqual([]);
  });

  it("does nothing for a second delivery of a finished job, and leaves its result unchanged", async () => {
    const w = worker();
    await started(w);
    await emulator.putObject("uploads/a.mp4", SHORT());
    await emulator.sendJob({ jobId: jobId(2), videoKey: "uploads/a.mp4" });
    await logged(w, "job succeeded");
    const first = await emulator.getJson(`analysis/${jobId(2)}/result.json`);
    await emulator.sendJob({ jobId: jobId(2), videoKey: "uploads/a.mp4" });
    await logged(w, "job already has a result: nothing to do");
    expect(w.lines.filter((l) => l.msg === "job started")).toHaveLength(1);
    expect(await emulator.getJson(`analysis/${jobId(2)}/result.json`)).toEqual(first);
    await waitFor(async () => (await emulator.counts()).inFlight === 0, 5000, "the delete");
    expect(await emulator.counts()).toEqual({ visible: 0, inFlight: 0 });
  });

  it("writes error.json and deletes the job when the video is missing", async () => {
    const w = worker();
    await started(w);
    await emulator.sendJob({ jobId: jobId(3), videoKey: "uploads/never-uploaded.mp4" });
    await logged(w, "job failed for good");
    expect(await emulator.getJson(`analysis/${jobId(3)}/error.json`)).toMatchObject({
      jobId: jobId(3),
      status: "failed",
      reason: "video-not-found",
      message: "s3://cricksy-test-videos/uploads/never-uploaded.mp4 does not exist",
      attempt: 1,
    });
    await waitFor(async () => (await emulator.counts()).inFlight === 0, 5000, "the delete");
    expect(await emulator.counts(emulator.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("writes error.json and deletes the job when the upload is not a video", async () => {
    const w = worker();
    await started(w);
    await emulator.putObject("uploads/notes.mp4", "minutes of the club meeting");
    await emulator.sendJob({ jobId: jobId(4), videoKey: "uploads/notes.mp4" });
    await logged(w, "job failed for good");
    expect(await emulator.getJson(`analysis/${jobId(4)}/error.json`)).toMatchObject({
      reason: "not-a-video",
      message: expect.stringContaining("ffprobe cannot read the file"),
    });
    expect(await emulator.getJson(`analysis/${jobId(4)}/result.json`)).toBeUndefined();
  });
});

describe("concurrency", () => {
  it("runs WORKER_CONCURRENCY jobs at once from a backlog, never more, and finishes them all", async () => {
    await emulator.putObject("uploads/a.mp4", SHORT());
    for (let n = 20; n < 26; n++) await emulator.sendJob({ jobId: jobId(n), videoKey: "uploads/a.mp4" });
    const w = worker({ WORKER_CONCURRENCY: "3" });
    await waitFor(() => w.lines.filter((l) => l.msg === "job succeeded").length === 6, 30_000, "six jobs");
    let running = 0;
    let most = 0;
    for (const line of w.lines) {
      if (line.msg === "job started") most = Math.max(most, ++running);
      if (line.msg === "job succeeded") running--;
    }
    expect(most).toBe(3);
    for (let n = 20; n < 26; n++) {
      expect(await emulator.getJson(`analysis/${jobId(n)}/result.json`)).toMatchObject({ status: "succeeded" });
    }
  });
});

describe("retries and the dead-letter queue", () => {
  beforeAll(() => {
    receiveLimit = 2;
  });
  afterAll(() => {
    receiveLimit = 5;
  });

  it("leaves a poison message to the redrive policy, with a backoff between receives", async () => {
    const w = worker();
    await started(w);
    await emulator.sendJob("{ this is not json");
    const first = await logged(w, "job message rejected");
    expect(first.reason).toMatch(/^the message body is not JSON/);
    const second = await logged(w, "job message rejected", (l) => l.attempt === 2);
    expect(Date.parse(second.time as string) - Date.parse(first.time as string)).toBeGreaterThanOrEqual(500);
    const dead = await waitFor(
      async () => {
        const messages = await emulator.peek(emulator.dlqUrl);
        return messages.length > 0 ? messages : undefined;
      },
      10_000,
      "the message in the dead-letter queue",
    );
    expect(dead.map((m) => m.body)).toEqual(["{ this is not json"]);
    expect(w.lines.filter((l) => l.msg === "job message rejected")).toHaveLength(2);
  });

  it("retries a transient failure with a backoff, then the redrive policy takes it", async () => {
    // A bucket that does not exist is a configuration error: retried, never error.json.
    const w = worker({ S3_BUCKET: "no-such-bucket" });
    await started(w);
    await emulator.sendJob({ jobId: jobId(5), videoKey: "uploads/a.mp4" });
    const first = await logged(w, "job failed: will retry");
    expect(first).toMatchObject({ jobId: jobId(5), attempt: 1, err: { name: "NoSuchBucket" } });
    await logged(w, "job failed: will retry", (l) => l.attempt === 2);
    await waitFor(async () => (await emulator.peek(emulator.dlqUrl)).length === 1, 10_000, "the dead-letter queue");
    const retried = w.lines.filter((l) => l._aws !== undefined);
    expect(retried.map((l) => l.JobsRetried)).toEqual([1, 1]);
  });
});

describe("crash", () => {
  it("loses nothing when killed with SIGKILL mid-job: the job completes exactly once, elsewhere", async () => {
    await emulator.putObject("uploads/long.mp4", LONG());
    const a = worker({ ...LONG_JOB, WORKER_VISIBILITY_TIMEOUT_S: "2" });
    await started(a);
    await emulator.sendJob({ jobId: jobId(6), videoKey: "uploads/long.mp4" });
    await logged(a, "keyframe extracted");
    a.child.kill("SIGKILL");
    expect((await a.exited).signal).toBe("SIGKILL");
    expect(a.lines.find((l) => l.msg === "job succeeded")).toBeUndefined();
    expect(await emulator.getJson(`analysis/${jobId(6)}/result.json`)).toBeUndefined();

    const b = worker({ ...LONG_JOB, WORKER_VISIBILITY_TIMEOUT_S: "2" });
    await logged(b, "job succeeded", () => true, 40_000);
    const result = await emulator.getJson(`analysis/${jobId(6)}/result.json`);
    // Attempt 2 or 3: the receive that was open when A died may have taken the message once more.
    expect(result).toMatchObject({ jobId: jobId(6), status: "succeeded" });
    expect(result?.attempt).toBeGreaterThanOrEqual(2);
    expect(b.lines.filter((l) => l.msg === "job started")).toHaveLength(1);
    await waitFor(async () => (await emulator.counts()).inFlight === 0, 5000, "the delete");
    expect(await emulator.counts()).toEqual({ visible: 0, inFlight: 0 });
    expect(await emulator.counts(emulator.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe("SIGTERM", () => {
  it("stops receiving at once, lets jobs in flight finish, exits 0", async () => {
    await emulator.putObject("uploads/long.mp4", LONG());
    const w = worker({ ...LONG_JOB, WORKER_CONCURRENCY: "2", WORKER_SHUTDOWN_GRACE_S: "60" });
    await started(w);
    await emulator.sendJob({ jobId: jobId(7), videoKey: "uploads/long.mp4" });
    await emulator.sendJob({ jobId: jobId(8), videoKey: "uploads/long.mp4" });
    await waitFor(() => w.lines.filter((l) => l.msg === "job started").length === 2, 10_000, "two jobs");
    w.child.kill("SIGTERM");
    await logged(w, "shutting down: receiving stopped");
    await emulator.sendJob({ jobId: jobId(9), videoKey: "uploads/long.mp4" });
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.lines.filter((l) => l.msg === "job succeeded").map((l) => l.jobId)).toEqual(
      expect.arrayContaining([jobId(7), jobId(8)]),
    );
    expect(w.lines.filter((l) => l.msg === "job started")).toHaveLength(2);
    expect(await emulator.counts()).toEqual({ visible: 1, inFlight: 0 });
    expect(w.lines.at(-1)?.msg).toBe("worker stopped");
  });

  it("cancels jobs past the grace period, kills their ffmpeg, releases them at once, exits 0", async () => {
    await emulator.putObject("uploads/long.mp4", LONG());
    const w = worker({ ...LONG_JOB, WORKER_SHUTDOWN_GRACE_S: "0", WORKER_WAIT_TIME_S: "2" });
    await started(w);
    await emulator.sendJob({ jobId: jobId(10), videoKey: "uploads/long.mp4" });
    await logged(w, "keyframe extracted");
    w.child.kill("SIGTERM");
    expect(await w.exited).toEqual({ code: 0, signal: null });
    await logged(w, "job cancelled by shutdown and released for another worker");
    expect(ffmpegProcessesOf(String(w.child.pid))).toEqual([]);
    expect(await emulator.peek(emulator.queueUrl)).toEqual([
      { body: JSON.stringify({ jobId: jobId(10), videoKey: "uploads/long.mp4" }), receiveCount: 2 },
    ]);
  });

  it("exits 0 when idle once the open long poll has run out, sending no further receive", async () => {
    const w = worker({ WORKER_WAIT_TIME_S: "2" });
    await started(w);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const t0 = Date.now();
    w.child.kill("SIGTERM");
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

/** ffmpeg processes still running whose parent is `pid`. */
function ffmpegProcessesOf(pid: string): string[] {
  const out = execFileSync("ps", ["-eo", "ppid=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith(`${pid} `) && l.includes("ffmpeg"));
}

describe("time budget", () => {
  it("cancels a job past WORKER_JOB_TIMEOUT_S for real: ffmpeg is killed and the job released", async () => {
    await emulator.putObject("uploads/long.mp4", LONG());
    const w = worker({ ...LONG_JOB, WORKER_JOB_TIMEOUT_S: "2" });
    await started(w);
    await emulator.sendJob({ jobId: jobId(11), videoKey: "uploads/long.mp4" });
    await logged(w, "job timed out: cancelled and released", () => true, 15_000);
    expect(ffmpegProcessesOf(String(w.child.pid))).toEqual([]);
    expect(w.lines.find((l) => l.msg === "job succeeded")).toBeUndefined();
  });
});

describe("ECS task scale-in protection", () => {
  let agent: Server;
  let agentUri: string;
  const puts: { body: Record<string, unknown>; at: number }[] = [];
  beforeEach(async () => {
    puts.length = 0;
    agent = createServer((request, response) => {
      let body = "";
      request.on("data", (c) => {
        body += c;
      });
      request.on("end", () => {
        if (request.method !== "PUT" || request.url !== "/task-protection/v1/state") {
          response.writeHead(404).end();
          return;
        }
        const parsed = JSON.parse(body);
        puts.push({ body: parsed, at: Date.now() });
        response.writeHead(200, { "content-type": "application/json" });
        response.end(
          JSON.stringify({ protection: { ProtectionEnabled: parsed.ProtectionEnabled, TaskArn: "arn:test" } }),
        );
      });
    });
    await new Promise<void>((resolve) => agent.listen(0, "127.0.0.1", resolve));
    agentUri = `http://127.0.0.1:${(agent.address() as AddressInfo).port}/api/test-task`;
  });
  afterEach(() => new Promise<void>((resolve) => agent.close(() => resolve())));

  it("protects the task while a job runs and drops the protection when idle", async () => {
    agentUri = agentUri.replace("/api/test-task", "");
    const w = worker({ ECS_AGENT_URI: agentUri });
    await started(w);
    expect(puts).toEqual([]);
    await emulator.putObject("uploads/a.mp4", SHORT());
    await emulator.sendJob({ jobId: jobId(12), videoKey: "uploads/a.mp4" });
    await logged(w, "task protection dropped");
    expect(puts.map((p) => p.body)).toEqual([
      { ProtectionEnabled: true, ExpiresInMinutes: 60 },
      { ProtectionEnabled: false },
    ]);
    const jobStart = Date.parse(w.lines.find((l) => l.msg === "job started")?.time as string);
    const jobEnd = Date.parse(w.lines.find((l) => l.msg === "job succeeded")?.time as string);
    expect(puts[0].at).toBeLessThanOrEqual(jobStart + 5);
    expect(puts[1].at).toBeGreaterThanOrEqual(jobEnd - 5);
  });
});

describe("configuration", () => {
  it.each([
    [
      { SQS_QUEUE_URL: "" },
      "SQS_QUEUE_URL",
      "invalid configuration: SQS_QUEUE_URL: is not set; set it to the analysis queue's URL",
    ],
    [
      { S3_BUCKET: "" },
      "S3_BUCKET",
      "invalid configuration: S3_BUCKET: is not set; set it to the videos bucket's name",
    ],
    [
      { WORKER_CONCURRENCY: "lots" },
      "WORKER_CONCURRENCY",
      'invalid configuration: WORKER_CONCURRENCY: must be a whole number from 1 to 100, got "lots"',
    ],
    [
      { SQS_QUEUE_URL: "analysis-jobs" },
      "SQS_QUEUE_URL",
      'invalid configuration: SQS_QUEUE_URL: must be a URL, got "analysis-jobs"',
    ],
  ])("stops at start with one clear line and exit 78 for %o", async (override, variable, message) => {
    const w = worker(override);
    expect(await w.exited).toEqual({ code: 78, signal: null });
    expect(w.lines).toHaveLength(1);
    expect(w.lines[0]).toMatchObject({ level: "error", msg: message, variable });
    expect(w.other).toEqual([]);
  });
});
