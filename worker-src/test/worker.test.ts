/**
 * The built worker process (`node dist/main.js`) against fauxqs and real ffmpeg:
 * failures, crashes, signals, redelivery, the dead-letter queue, configuration.
 * A job that must be slow is made slow on purpose: its ffmpeg waits at a gate
 * that the test opens (helpers/gate.ts), never by picking a long video.
 */
import { readFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator, waitFor } from "./helpers/emulator.js";
import { makeGate } from "./helpers/gate.js";
import { H264, makeMedia, makeVideo, testPattern } from "./helpers/videos.js";
import { type LogLine, startWorker, type WorkerProcess } from "./helpers/worker-process.js";

const SHORT = () => makeVideo({ seconds: 4, width: 320, height: 240, fps: 25 });

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
    const w = worker({ WORKER_ENVIRONMENT: "staging" });
    await started(w);
    await emulator.putObject("uploads/a.mp4", SHORT());
    await emulator.sendJob({ jobId: jobId(1), videoKey: "uploads/a.mp4" });
    const succeeded = await logged(w, "job succeeded");
    expect(succeeded).toMatchObject({ level: "info", jobId: jobId(1), attempt: 1, thumbnails: 3 });
    expect(typeof succeeded.durationMs).toBe("number");
    for (const msg of ["job started", "video downloaded", "video analysed", "thumbnail uploaded"]) {
      expect(w.lines.find((l) => l.msg === msg)).toMatchObject({ jobId: jobId(1), attempt: 1 });
    }
    const metrics = await w.waitForLog((l) => l._aws !== undefined, 5000, "an EMF line");
    expect(metrics).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: "Cricksy/Worker",
            Dimensions: [["Service", "Environment"]],
            Metrics: [
              { Name: "JobsSucceeded", Unit: "Count" },
              { Name: "JobDuration", Unit: "Milliseconds" },
              { Name: "QueueWait", Unit: "Milliseconds" },
            ],
          },
        ],
      },
      Service: "worker",
      Environment: "staging",
      JobsSucceeded: 1,
      jobId: jobId(1),
    });
    expect(w.other).toEqual([]);
    // Every line about the job carries its jobId.
    const first = w.lines.findIndex((l) => l.msg === "job started");
    const last = w.lines.findIndex((l) => l._aws !== undefined);
    for (const line of w.lines.slice(first, last + 1)) expect(line.jobId, JSON.stringify(line)).toBe(jobId(1));
  });

  it("does nothing for a second delivery of a finished job, and leaves its result unchanged", async () => {
    const w = worker();
    await started(w);
    await emulator.putObject("uploads/a.mp4", SHORT());
    await emulator.sendJob({ jobId: jobId(2), videoKey: "uploads/a.mp4" });
    await logged(w, "job succeeded");
    const first = await emulator.getJson(`analysis/${jobId(2)}/result.json`);
    await emulator.sendJob({ jobId: jobId(2), videoKey: "uploads/a.mp4" });
    await logged(w, "job already has an outcome: nothing to do");
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

  it.each([
    ["an empty videoKey", ""],
    ["a videoKey that is not a string", 42],
    ["a 256 KB videoKey", "k".repeat(256 * 1024)],
  ])(
    "ends a job with %s: error.json (invalid-job), JobsFailed, short log lines with its jobId",
    async (_name, videoKey) => {
      const w = worker();
      await started(w);
      await emulator.sendJob({ jobId: jobId(30), videoKey });
      await logged(w, "job failed for good");
      expect(await emulator.getJson(`analysis/${jobId(30)}/error.json`)).toMatchObject({
        jobId: jobId(30),
        status: "failed",
        reason: "invalid-job",
        message: expect.stringMatching(/^videoKey must be a non-empty S3 key/),
      });
      const metrics = await w.waitForLog((l) => l._aws !== undefined, 5000, "an EMF line");
      expect(metrics).toMatchObject({ JobsFailed: 1, jobId: jobId(30) });
      await waitFor(async () => (await emulator.counts()).inFlight === 0, 5000, "the delete");
      expect(await emulator.counts(emulator.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
      const raw = w.lines.map((l) => JSON.stringify(l));
      for (const line of raw) expect(line.length).toBeLessThan(4096);
      for (const line of w.lines.filter((l) => l.messageId !== undefined)) expect(line.jobId).toBe(jobId(30));
    },
  );
});

describe("videos the analysis used to get wrong, end to end", () => {
  it.each([
    ["a 3-frame video (fewer frames than 2 per thumbnail, one keyframe)", "3-frames-e2e.mp4", ["-frames:v", "3"], 3],
    ["an H.264 MPEG-TS as ffmpeg writes it (starting at 1.4 s)", "ts-e2e.ts", [], 150],
  ])("%s: succeeds on its first attempt, counted once", async (_name, name, extra, frames) => {
    const video = makeMedia(name, (out) => [...testPattern(6), ...extra, ...H264, out]);
    const w = worker();
    await started(w);
    await emulator.putObject("uploads/v", readFileSync(video));
    await emulator.sendJob({ jobId: jobId(37), videoKey: "uploads/v" });
    await logged(w, "job succeeded");
    const result = await emulator.getJson<{ video: { frameCount: number }; thumbnails: string[] }>(
      `analysis/${jobId(37)}/result.json`,
    );
    expect(result?.video.frameCount).toBe(frames);
    expect(result?.thumbnails).toHaveLength(3);
    await waitFor(() => w.lines.some((l) => l._aws !== undefined), 5000, "the EMF line");
    expect(w.lines.filter((l) => l._aws !== undefined).map((l) => `${l.outcome}@${l.attempt}`)).toEqual([
      "succeeded@1",
    ]);
  });

  it("a valid 1024-byte videoKey of control characters: every line at most 4096 bytes", async () => {
    const w = worker();
    await started(w);
    // Each is one byte of the key and six in a JSON line.
    await emulator.sendJob(`{"jobId":"${jobId(38)}","videoKey":"${"\\u0001".repeat(1024)}"}`);
    await logged(w, "job failed for good");
    await waitFor(() => w.lines.some((l) => l._aws !== undefined), 5000, "the EMF line");
    const raw = w.lines.map((l) => Buffer.byteLength(JSON.stringify(l)));
    expect(Math.max(...raw)).toBeLessThanOrEqual(4096);
    expect(await emulator.getJson(`analysis/${jobId(38)}/error.json`)).toMatchObject({ reason: "video-not-found" });
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

  it("moves a poison message to the dead-letter queue on its last attempt, with a backoff between receives", async () => {
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
    expect(dead[0].deadLetterReason).toMatch(/^the message body is not JSON/);
    expect(w.lines.filter((l) => l.msg === "job message rejected")).toHaveLength(2);
  });

  it("retries a transient failure with a backoff; when even error.json cannot be written, dead-letters it", async () => {
    // A bucket that does not exist is a configuration error: retried; error.json cannot be written either.
    const w = worker({ S3_BUCKET: "no-such-bucket" });
    await started(w);
    await emulator.sendJob({ jobId: jobId(5), videoKey: "uploads/a.mp4" });
    const first = await logged(w, "job handler failed; will retry");
    expect(first).toMatchObject({ jobId: jobId(5), attempt: 1, err: { name: "NoSuchBucket" } });
    await logged(w, "could not write the job's final outcome", (l) => l.attempt === 2);
    await logged(w, "last attempt failed: message moved to the dead-letter queue");
    await waitFor(async () => (await emulator.peek(emulator.dlqUrl)).length === 1, 10_000, "the dead-letter queue");
    // The metric line follows the log line; it may come in the next chunk of the worker's output.
    await waitFor(() => w.lines.filter((l) => l._aws !== undefined).length === 2, 5000, "two EMF lines");
    const metrics = w.lines.filter((l) => l._aws !== undefined);
    expect(metrics.map((l) => l.outcome)).toEqual(["retried", "failed"]);
  });

  it("ends a job whose budget runs out on its last attempt with error.json (timed-out)", async () => {
    const gate = makeGate();
    await emulator.putObject("uploads/a.mp4", SHORT());
    const w = worker({ ...gate.env, WORKER_JOB_TIMEOUT_S: "1" });
    await started(w);
    await emulator.sendJob({ jobId: jobId(31), videoKey: "uploads/a.mp4" });
    await logged(w, "job timed out: cancelled, will retry", (l) => l.attempt === 1);
    await logged(w, "job failed for good on its last attempt", () => true, 30_000);
    expect(await emulator.getJson(`analysis/${jobId(31)}/error.json`)).toMatchObject({
      reason: "timed-out",
      attempt: 2,
      message: expect.stringContaining("attempt 2 of 2"),
    });
    await waitFor(async () => (await emulator.counts()).inFlight === 0, 5000, "the delete");
    expect(await emulator.counts(emulator.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    await waitFor(() => w.lines.filter((l) => l._aws !== undefined).length === 2, 5000, "two EMF lines");
    expect(w.lines.filter((l) => l._aws !== undefined).map((l) => l.outcome)).toEqual(["retried", "failed"]);
    await waitFor(() => gate.alive().length === 0, 5000, "the stand-ins to be killed");
  });

  it("ends a job whose video S3 denies (a wrong IAM prefix) with error.json (access-denied) on its last attempt", async () => {
    await emulator.putObject("uploads/a.mp4", SHORT());
    const proxy = await denyingS3Proxy(emulator.endpoint, /^\/[^/]+\/uploads\//);
    try {
      const w = worker({ AWS_ENDPOINT_URL_S3: proxy.endpoint });
      await started(w);
      await emulator.sendJob({ jobId: jobId(32), videoKey: "uploads/a.mp4" });
      await logged(w, "job failed for good on its last attempt", () => true, 30_000);
      expect(await emulator.getJson(`analysis/${jobId(32)}/error.json`)).toMatchObject({
        reason: "access-denied",
        message: expect.stringContaining("access to the video was denied"),
      });
      await waitFor(() => w.lines.filter((l) => l._aws !== undefined).length === 2, 5000, "two EMF lines");
      expect(w.lines.filter((l) => l._aws !== undefined).map((l) => l.outcome)).toEqual(["retried", "failed"]);
    } finally {
      await proxy.close();
    }
  });
});

describe("access denied without a reason", () => {
  beforeAll(() => {
    receiveLimit = 2;
  });
  afterAll(() => {
    receiveLimit = 5;
  });

  it("a 403 with an empty body: error.json says AccessDenied, the operation and the key", async () => {
    await emulator.putObject("uploads/a.mp4", SHORT());
    const proxy = await denyingS3Proxy(emulator.endpoint, /^\/[^/]+\/uploads\//, { emptyBody: true });
    try {
      const w = worker({ AWS_ENDPOINT_URL_S3: proxy.endpoint });
      await started(w);
      await emulator.sendJob({ jobId: jobId(36), videoKey: "uploads/a.mp4" });
      await logged(w, "job failed for good on its last attempt", () => true, 30_000);
      const error = await emulator.getJson<{ reason: string; message: string }>(`analysis/${jobId(36)}/error.json`);
      expect(error?.reason).toBe("access-denied");
      expect(error?.message).toContain(
        "S3 denied GetObject on s3://cricksy-test-videos/uploads/a.mp4 (403 AccessDenied)",
      );
      expect(error?.message).not.toContain("UnknownError");
    } finally {
      await proxy.close();
    }
  });
});

describe("crash", () => {
  it("loses nothing when killed with SIGKILL mid-job: the job completes exactly once, elsewhere", async () => {
    await emulator.putObject("uploads/long.mp4", SHORT());
    const gate = makeGate();
    const a = worker({ ...gate.env, WORKER_VISIBILITY_TIMEOUT_S: "2" });
    await started(a);
    await emulator.sendJob({ jobId: jobId(6), videoKey: "uploads/long.mp4" });
    await gate.waiting();
    a.child.kill("SIGKILL");
    expect((await a.exited).signal).toBe("SIGKILL");
    // SIGKILL takes no children with it: the stand-in ffmpeg A started would wait at its gate for ever.
    for (const pid of gate.alive()) process.kill(pid, "SIGKILL");
    expect(a.lines.find((l) => l.msg === "job succeeded")).toBeUndefined();
    expect(await emulator.getJson(`analysis/${jobId(6)}/result.json`)).toBeUndefined();

    const b = worker({ WORKER_VISIBILITY_TIMEOUT_S: "2" });
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
    await emulator.putObject("uploads/long.mp4", SHORT());
    const gate = makeGate();
    const w = worker({ ...gate.env, WORKER_CONCURRENCY: "2", WORKER_SHUTDOWN_GRACE_S: "60", WORKER_WAIT_TIME_S: "2" });
    await started(w);
    await emulator.sendJob({ jobId: jobId(7), videoKey: "uploads/long.mp4" });
    await emulator.sendJob({ jobId: jobId(8), videoKey: "uploads/long.mp4" });
    // Both jobs wait at their ffmpeg: they are in flight when SIGTERM comes, whatever the machine's speed.
    await gate.waiting(2);
    w.child.kill("SIGTERM");
    await logged(w, "shutting down: receiving stopped");
    await emulator.sendJob({ jobId: jobId(9), videoKey: "uploads/long.mp4" });
    gate.open();
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.lines.filter((l) => l.msg === "job succeeded").map((l) => l.jobId)).toEqual(
      expect.arrayContaining([jobId(7), jobId(8)]),
    );
    expect(w.lines.filter((l) => l.msg === "job started")).toHaveLength(2);
    expect(await emulator.counts()).toEqual({ visible: 1, inFlight: 0 });
    expect(w.lines.at(-1)?.msg).toBe("worker stopped");
  });

  it("with a grace of 0, cancels a job at SIGTERM though a long poll is open, kills its ffmpeg, requeues it, exits 0", async () => {
    await emulator.putObject("uploads/long.mp4", SHORT());
    const gate = makeGate();
    // Concurrency 2: while the job runs, a 20 s long poll is open for the free slot.
    const w = worker({ ...gate.env, WORKER_SHUTDOWN_GRACE_S: "0", WORKER_CONCURRENCY: "2", WORKER_WAIT_TIME_S: "20" });
    await started(w);
    await emulator.sendJob({ jobId: jobId(10), videoKey: "uploads/long.mp4" });
    await gate.waiting();
    w.child.kill("SIGTERM");
    expect(await w.exited).toEqual({ code: 0, signal: null });
    const msgs = w.lines.map((l) => l.msg);
    expect(msgs).toContain("job cancelled by shutdown and requeued with its attempts intact");
    // Cancelled before the open receive returned, not after it.
    const cancelling = msgs.indexOf("grace period over: cancelling jobs still in flight");
    expect(cancelling).toBeGreaterThan(-1);
    expect(cancelling).toBeLessThan(msgs.indexOf("receive open at shutdown returned"));
    expect(gate.alive()).toEqual([]);
    expect(w.lines.find((l) => l.msg === "job succeeded")).toBeUndefined();
    // A copy with its attempts intact (0 spent), visible at once for another worker.
    expect(await emulator.peek(emulator.queueUrl)).toEqual([
      { body: JSON.stringify({ jobId: jobId(10), videoKey: "uploads/long.mp4" }), receiveCount: 1, attempts: 0 },
    ]);
  });

  it("exits 0 when idle once the open long poll has run out, sending no further receive", async () => {
    const w = worker({ WORKER_WAIT_TIME_S: "2" });
    await started(w);
    await new Promise((resolve) => setTimeout(resolve, 500));
    w.child.kill("SIGTERM");
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.lines.filter((l) => l.msg === "receive open at shutdown returned")).toHaveLength(1);
  });
});

describe("deploys in a row", () => {
  beforeAll(() => {
    receiveLimit = 2;
  });
  afterAll(() => {
    receiveLimit = 5;
  });

  it("spend none of a job's attempts: three shutdowns mid-job, then it succeeds on its first real attempt", async () => {
    await emulator.putObject("uploads/a.mp4", SHORT());
    await emulator.sendJob({ jobId: jobId(33), videoKey: "uploads/a.mp4" });
    // maxReceiveCount is 2: with releases, the second shutdown would have sent it to the dead-letter queue.
    for (let deploy = 0; deploy < 3; deploy++) {
      const gate = makeGate();
      const w = worker({ ...gate.env, WORKER_SHUTDOWN_GRACE_S: "0", WORKER_WAIT_TIME_S: "1" });
      await gate.waiting();
      w.child.kill("SIGTERM");
      expect(await w.exited).toEqual({ code: 0, signal: null });
      expect(w.lines.find((l) => l.msg === "job started")).toMatchObject({ jobId: jobId(33), attempt: 1 });
    }
    const last = worker();
    await logged(last, "job succeeded");
    expect(await emulator.getJson(`analysis/${jobId(33)}/result.json`)).toMatchObject({ attempt: 1 });
    expect(await emulator.counts(emulator.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe("time budget", () => {
  it("cancels a job past WORKER_JOB_TIMEOUT_S for real: its ffmpeg is killed and the job retried later", async () => {
    await emulator.putObject("uploads/long.mp4", SHORT());
    // The job's ffmpeg waits at a gate that is never opened: it cannot finish within any budget.
    const gate = makeGate();
    const w = worker({ ...gate.env, WORKER_JOB_TIMEOUT_S: "2" });
    await started(w);
    await emulator.sendJob({ jobId: jobId(11), videoKey: "uploads/long.mp4" });
    await gate.waiting();
    await logged(w, "job timed out: cancelled, will retry", () => true, 15_000);
    await waitFor(() => gate.alive().length === 0, 5000, "the stand-in ffmpeg to be killed");
    expect(w.lines.find((l) => l.msg === "job succeeded")).toBeUndefined();
  });
});

/**
 * An S3 endpoint in front of fauxqs that answers 403 AccessDenied for paths
 * matching `deny` (as S3 does for a key outside the role's policy) and forwards the rest.
 */
async function denyingS3Proxy(target: string, deny: RegExp, options: { emptyBody?: boolean } = {}) {
  const server = createServer((req, res) => {
    if (deny.test(req.url ?? "")) {
      req.resume();
      if (options.emptyBody) {
        // As S3 answers a HEAD, and as some proxies and KMS denials do: a status and nothing else.
        res.writeHead(403, { "content-length": "0" });
        res.end();
        return;
      }
      res.writeHead(403, { "content-type": "application/xml" });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
      );
      return;
    }
    const url = new URL(req.url ?? "/", target);
    const upstream = request(url, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

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
    // The default budget, 1800 s: 30 minutes at most.
    expect(puts.map((p) => p.body)).toEqual([
      { ProtectionEnabled: true, ExpiresInMinutes: 30 },
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
    [
      { WORKER_SCRATCH_DIR: "/nonexistent/scratch" },
      "WORKER_SCRATCH_DIR",
      "invalid configuration: WORKER_SCRATCH_DIR: /nonexistent/scratch does not exist (ENOENT); create it or mount a volume there",
    ],
    [
      // /proc exists and takes no new file, even from root (the tests may run as root).
      { WORKER_SCRATCH_DIR: "/proc" },
      "WORKER_SCRATCH_DIR",
      expect.stringMatching(
        /^invalid configuration: WORKER_SCRATCH_DIR: \/proc is not writable by this user \(uid \d+\)/,
      ),
    ],
    [
      { TMPDIR: "/sys" },
      "TMPDIR",
      expect.stringMatching(/^invalid configuration: TMPDIR: \/sys is not writable by this user/),
    ],
    [
      // The scratch directory follows TMPDIR when it is unset: the line names TMPDIR, the variable to fix.
      { WORKER_SCRATCH_DIR: "", TMPDIR: "/proc" },
      "TMPDIR",
      expect.stringMatching(/^invalid configuration: TMPDIR: \/proc is not writable by this user/),
    ],
    [
      { WORKER_HEALTH_FILE: "/nonexistent/health/worker-health" },
      "WORKER_HEALTH_FILE",
      "invalid configuration: WORKER_HEALTH_FILE: /nonexistent/health (the directory of /nonexistent/health/worker-health) does not exist (ENOENT); create it or mount a volume there",
    ],
    [
      { WORKER_CONCURRENCY: "x", DATABASE_URL: "postgres://app:hunter2@db/x", AWS_ENDPOINT_URL: "ftp://u:hunter2@h" },
      "AWS_ENDPOINT_URL",
      'invalid configuration: AWS_ENDPOINT_URL: must start with http:// or https://, got "ftp://***@h"',
    ],
  ])("stops at start with one clear line and exit 78 for %o", async (override, variable, message) => {
    const w = worker(override);
    expect(await w.exited).toEqual({ code: 78, signal: null });
    expect(w.lines).toHaveLength(1);
    expect(w.lines[0]).toMatchObject({ level: "error", msg: message, variable });
    expect(JSON.stringify(w.lines)).not.toContain("hunter2");
    expect(w.other).toEqual([]);
  });

  it.each([
    ["a slash in the password (not a URL at all)", "http://u:pa/hunter2@h:x", ["hunter2"]],
    ["a raw @ in the password", "ftp://u:hun@ter2@h", ["ter2"]],
    ["a space in the password", "ftp://u:hunter 2@h", ["hunter", " 2@"]],
  ])("a configuration error keeps every fragment of a password out (%s)", async (_name, endpoint, fragments) => {
    const w = worker({ AWS_ENDPOINT_URL: endpoint });
    expect(await w.exited).toEqual({ code: 78, signal: null });
    expect(w.lines).toMatchObject([{ variable: "AWS_ENDPOINT_URL", msg: expect.stringContaining("***@") }]);
    for (const fragment of fragments) expect(JSON.stringify(w.lines)).not.toContain(fragment);
  });

  it("the start line shows an endpoint whose password holds a raw @ without any of it", async () => {
    const port = new URL(emulator.endpoint).port;
    const w = worker({ AWS_ENDPOINT_URL: `http://u:hun@ter2@127.0.0.1:${port}` });
    const start = await started(w);
    expect(start.endpoints).toEqual({ sqs: `http://***@127.0.0.1:${port}`, s3: `http://***@127.0.0.1:${port}` });
    expect(JSON.stringify(w.lines)).not.toContain("ter2");
  });

  it("SIGTERM while the worker is still starting (its queue unreachable): one line, exit 0, nothing received", async () => {
    const w = worker({ AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:9" });
    await logged(w, "reading the queue's redrive policy failed; trying again");
    expect(await w.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    expect(w.lines.map((l) => l.msg)).toContain(
      "stopped during start-up, before the first receive: nothing was received, nothing is lost",
    );
    expect(w.lines.map((l) => l.msg)).not.toContain("worker started");
    expect(w.other).toEqual([]);
  });

  it.each([
    ["a SQLAlchemy URL", "postgresql+asyncpg://app:hunter2@db.internal:5432/cricksy", "info"],
    ["an RDS secret", '{"username":"app","password":"hunter2","engine":"postgres","host":"db","port":5432}', "info"],
    ["a form it does not know", "mysql://app:hunter2@db/x", "warn"],
  ])("starts whatever DATABASE_URL holds (%s), and never logs the secret", async (_name, value, level) => {
    await emulator.putObject("uploads/a.mp4", SHORT());
    const w = worker({ DATABASE_URL: value });
    await started(w);
    expect(
      w.lines.find((l) => String(l.msg).includes("database") || String(l.msg).includes("DATABASE_URL")),
    ).toMatchObject({
      level,
    });
    await emulator.sendJob({ jobId: jobId(34), videoKey: "uploads/a.mp4" });
    await logged(w, "job succeeded");
    expect(JSON.stringify(w.lines)).not.toContain("hunter2");
  });

  it("warns once at start when WORKER_ENVIRONMENT is unset, and its metrics then carry Service alone", async () => {
    await emulator.putObject("uploads/a.mp4", SHORT());
    const w = worker();
    await started(w);
    expect(w.lines.filter((l) => l.variable === "WORKER_ENVIRONMENT")).toMatchObject([{ level: "warn" }]);
    await emulator.sendJob({ jobId: jobId(35), videoKey: "uploads/a.mp4" });
    const metrics = await w.waitForLog((l) => l._aws !== undefined, 30_000, "an EMF line");
    expect(metrics).not.toHaveProperty("Environment");
  });
});
