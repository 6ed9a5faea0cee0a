/**
 * One outcome per job, whatever the deliveries, against moto's server: an S3 that
 * enforces conditional writes as AWS does (fauxqs ignores If-None-Match, so it
 * cannot show these races). Deliveries of the same jobId race for real: their
 * ffmpeg waits at a gate (stand-in/gated.sh) until both have got that far.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobTimeoutError, ShutdownError } from "../src/consumer.js";
import { createAnalysisHandler, type Outcome } from "../src/job-handler.js";
import { VideoStorage } from "../src/storage.js";
import { CREDENTIALS, REGION, waitFor } from "./helpers/emulator.js";
import { GATED, makeGate } from "./helpers/gate.js";
import { memoryLogger } from "./helpers/memory-log.js";
import { type Moto, startMoto } from "./helpers/moto.js";
import { startS3Proxy } from "./helpers/s3-proxy.js";
import { makeVideo } from "./helpers/videos.js";
import { startWorker, type WorkerProcess } from "./helpers/worker-process.js";

const BUCKET = "cricksy-race-videos";
/** Two videos told apart by their thumbnails' height (320 px wide): 4:3 gives 240, 16:9 gives 180. */
const VIDEOS = {
  "uploads/four-three.mp4": {
    make: () => makeVideo({ seconds: 4, width: 320, height: 240, fps: 25 }),
    thumbHeight: 240,
  },
  "uploads/sixteen-nine.mp4": {
    make: () => makeVideo({ seconds: 3, width: 640, height: 360, fps: 30 }),
    thumbHeight: 180,
  },
} as const;
type VideoKey = keyof typeof VIDEOS;

let moto: Moto;
let s3: S3Client;
const scratch = mkdtempSync(join(tmpdir(), "cricksy-race-"));

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client({ region: REGION, endpoint: moto.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  for (const [key, video] of Object.entries(VIDEOS)) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: video.make() }));
  }
}, 90_000);
afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});

const jobId = (n: number) => `00000000-0000-4000-9000-${String(n).padStart(12, "0")}`;

async function keysOf(id: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `analysis/${id}/` }));
  return (out.Contents ?? []).map((o) => o.Key as string).sort();
}
async function getJson(key: string): Promise<Outcome> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return JSON.parse(await (out.Body as { transformToString(): Promise<string> }).transformToString());
}
function thumbnailHeight(bytes: Uint8Array): number {
  const file = join(scratch, `thumb-${Math.random()}.jpg`);
  writeFileSync(file, bytes);
  const out = execFileSync("ffprobe", ["-v", "error", "-show_entries", "stream=height", "-of", "csv=p=0", file], {
    encoding: "utf8",
  });
  return Number(out.trim());
}

/** Exactly one outcome; what result.json references is its own video's; nothing else is left. */
async function expectOneConsistentOutcome(id: string) {
  const keys = await keysOf(id);
  const outcome = await getJson(`analysis/${id}/outcome.json`);
  const published = keys.filter((k) => k.endsWith("/result.json") || k.endsWith("/error.json"));
  expect(published).toEqual([`analysis/${id}/${outcome.status === "succeeded" ? "result" : "error"}.json`]);
  expect(await getJson(published[0])).toEqual(outcome);
  if (outcome.status !== "succeeded") {
    expect(keys).toEqual([`analysis/${id}/error.json`, `analysis/${id}/outcome.json`]);
    return outcome;
  }
  expect(outcome.thumbnails).toHaveLength(3);
  expect(keys).toEqual([...outcome.thumbnails, `analysis/${id}/outcome.json`, `analysis/${id}/result.json`].sort());
  const expected = VIDEOS[outcome.videoKey as VideoKey].thumbHeight;
  for (const key of outcome.thumbnails) {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(
      thumbnailHeight(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()),
    ).toBe(expected);
  }
  return outcome;
}

describe("moto's S3", () => {
  it("answers If-None-Match: * on an existing key with 412, as AWS does (the pinned version)", async () => {
    const put = () =>
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "probe/once.json", Body: "{}", IfNoneMatch: "*" }));
    await put();
    const error = await put().then(
      () => undefined,
      (e: { $metadata?: { httpStatusCode?: number }; name?: string }) => e,
    );
    expect(error?.$metadata?.httpStatusCode).toBe(412);
  });
});

describe("deliveries of one job, at once (handler against moto's S3)", () => {
  const handlerWith = (gateEnvDir: string | undefined) => {
    const { log, lines } = memoryLogger();
    const handler = createAnalysisHandler({
      storage: new VideoStorage(s3, BUCKET),
      scratchDir: scratch,
      thumbnails: 3,
      version: "test",
      tools: gateEnvDir ? { ffmpeg: GATED, ffprobe: "ffprobe" } : undefined,
    });
    const run = (id: string, videoKey: string) =>
      handler.handle(
        { Body: JSON.stringify({ jobId: id, videoKey }) },
        { signal: new AbortController().signal, attempt: 1, maxAttempts: 3, log: log.child({ jobId: id }) },
      );
    return { run, lines };
  };

  it.each([
    [1, "uploads/four-three.mp4", "uploads/sixteen-nine.mp4"],
    [2, "uploads/sixteen-nine.mp4", "uploads/four-three.mp4"],
    [3, "uploads/four-three.mp4", "uploads/sixteen-nine.mp4"],
  ])("race %i: two videoKeys, one result whose thumbnails are its own video's", async (n, first, second) => {
    const gate = makeGate();
    process.env.GATE_DIR = gate.env.GATE_DIR;
    const { run } = handlerWith(gate.env.GATE_DIR);
    const id = jobId(n);
    const deliveries = [run(id, first), run(id, second)];
    // Both have checked for an outcome and wait at their decode: then both go.
    await gate.waiting(2);
    gate.open();
    const dispositions = (await Promise.all(deliveries)).map((d) => (d.kind === "delete" ? d.outcome : d.kind));
    expect(dispositions.sort()).toEqual(["duplicate", "succeeded"]);
    await expectOneConsistentOutcome(id);
  });

  it.each([
    ["the missing video's delivery decides first", 10, true],
    ["the good video's delivery decides first", 11, false],
  ])("a good and a missing video: %s, and exactly one outcome exists", async (_name, n, missingFirst) => {
    const gate = makeGate();
    process.env.GATE_DIR = gate.env.GATE_DIR;
    const { run } = handlerWith(gate.env.GATE_DIR);
    const id = jobId(n);
    const good = run(id, "uploads/four-three.mp4");
    await gate.waiting(1);
    let missing: ReturnType<typeof run>;
    if (missingFirst) {
      missing = run(id, "uploads/never-uploaded.mp4");
      await missing;
      gate.open();
    } else {
      gate.open();
      await good;
      missing = run(id, "uploads/never-uploaded.mp4");
    }
    const [a, b] = await Promise.all([good, missing]);
    const outcome = await expectOneConsistentOutcome(id);
    expect(outcome.status).toBe(missingFirst ? "failed" : "succeeded");
    expect([a, b]).toEqual(
      missingFirst
        ? [
            { kind: "delete", outcome: "duplicate" },
            { kind: "delete", outcome: "failed" },
          ]
        : [
            { kind: "delete", outcome: "succeeded" },
            { kind: "delete", outcome: "duplicate" },
          ],
    );
  });
});

describe("the delivery that decided the job keeps what its result references (S3 misbehaving, via a proxy)", () => {
  /** A handler whose S3 calls go through `endpoint` (the proxy), and the jobs it ran. */
  const handlerVia = (endpoint: string) => {
    const client = new S3Client({ region: REGION, endpoint, forcePathStyle: true, credentials: CREDENTIALS });
    const { log, lines } = memoryLogger();
    const handler = createAnalysisHandler({
      storage: new VideoStorage(client, BUCKET),
      scratchDir: scratch,
      thumbnails: 3,
      version: "test",
    });
    const run = (id: string, controller = new AbortController()) =>
      handler.handle(
        { Body: JSON.stringify({ jobId: id, videoKey: "uploads/four-three.mp4" }) },
        { signal: controller.signal, attempt: 1, maxAttempts: 3, log: log.child({ jobId: id }) },
      );
    return { run, lines, close: () => client.destroy() };
  };
  /** What the consumer counts for each disposition: JobsSucceeded for a delete with outcome "succeeded". */
  const counted = (dispositions: { kind: string; outcome?: string }[]) =>
    dispositions.map((d) => (d.kind === "delete" ? d.outcome : d.kind));

  it("result.json's PUT answered 503 four times: retried, the next delivery completes the copy, counted once", async () => {
    const proxy = await startS3Proxy(moto.endpoint);
    const id = jobId(30);
    proxy.rule({ match: new RegExp(`^PUT /${BUCKET}/analysis/${id}/result\\.json`), status: 503, times: 4 });
    const { run, close } = handlerVia(proxy.endpoint);
    try {
      const first = await run(id);
      expect(first).toMatchObject({ kind: "retry" });
      // The claim is this delivery's: its thumbnails stay, whatever happens to the copy.
      const claim = await getJson(`analysis/${id}/outcome.json`);
      for (const key of (claim as { thumbnails: string[] }).thumbnails) expect(await keysOf(id)).toContain(key);
      const second = await run(id);
      expect(counted([first, second])).toEqual(["retry", "succeeded"]);
      await expectOneConsistentOutcome(id);
    } finally {
      close();
      await proxy.close();
    }
  });

  it("outcome.json stored but its answer lost (the SDK's retry gets 412): the claim is recognised as its own", async () => {
    const proxy = await startS3Proxy(moto.endpoint);
    const id = jobId(31);
    const lost = proxy.rule({
      match: new RegExp(`^PUT /${BUCKET}/analysis/${id}/outcome\\.json`),
      dropAnswer: true,
      times: 1,
    });
    const { run, lines, close } = handlerVia(proxy.endpoint);
    try {
      expect(counted([await run(id)])).toEqual(["succeeded"]);
      expect(lost.hits).toBe(1);
      expect(lines.map((l) => l.msg)).toContain("the claim is this delivery's own (its first answer was lost)");
      await expectOneConsistentOutcome(id);
    } finally {
      close();
      await proxy.close();
    }
  });

  it.each([
    ["SIGTERM with a grace of 0", () => new ShutdownError("shutdown grace period over"), 32],
    ["the time budget", () => new JobTimeoutError("the job ran past its budget of 8 s"), 33],
  ])(
    "cancelled by %s while result.json's PUT is held: thumbnails kept, the next delivery completes the copy",
    async (_name, reason, n) => {
      const proxy = await startS3Proxy(moto.endpoint);
      const id = jobId(n);
      const held = proxy.rule({
        match: new RegExp(`^PUT /${BUCKET}/analysis/${id}/result\\.json`),
        hold: true,
        times: 1,
      });
      const { run, close } = handlerVia(proxy.endpoint);
      try {
        const controller = new AbortController();
        const first = run(id, controller);
        await proxy.hit(held);
        controller.abort(reason());
        // The cancelled delivery ends with an error (the consumer settles it by the signal's reason).
        await expect(first).rejects.toBeInstanceOf(Error);
        const claim = (await getJson(`analysis/${id}/outcome.json`)) as { thumbnails: string[] };
        expect(await keysOf(id)).toEqual(expect.arrayContaining(claim.thumbnails));
        expect(counted([await run(id)])).toEqual(["succeeded"]);
        await expectOneConsistentOutcome(id);
      } finally {
        close();
        await proxy.close();
      }
    },
  );
});

describe("the worker process on moto (SQS and S3)", () => {
  let sqs: SQSClient;
  let queueUrl: string;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    sqs = new SQSClient({ region: REGION, endpoint: moto.endpoint, credentials: CREDENTIALS });
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: "race-jobs-dlq" }));
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes?.QueueArn;
    queueUrl = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: "race-jobs",
          Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }) },
        }),
      )
    ).QueueUrl as string;
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop("SIGKILL")));
    sqs?.destroy();
  });

  /** A worker of one job at a time on `queue`, with moto as its S3 and SQS. */
  const onMoto = (queue: string) => ({
    SQS_QUEUE_URL: queue,
    S3_BUCKET: BUCKET,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    WORKER_CONCURRENCY: "1",
    WORKER_WAIT_TIME_S: "1",
  });

  it("two workers take the same jobId with different videos at once: one result, its own thumbnails", async () => {
    const gate = makeGate();
    const env = { ...gate.env, ...onMoto(queueUrl) };
    workers.push(startWorker(env), startWorker(env));
    const id = jobId(20);
    for (const videoKey of Object.keys(VIDEOS)) {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ jobId: id, videoKey }) }),
      );
    }
    await gate.waiting(2);
    gate.open();
    await waitFor(
      () => workers.every((w) => w.lines.some((l) => l._aws !== undefined)),
      60_000,
      "both deliveries to be settled",
    );
    const outcomes = workers.map((w) => w.lines.find((l) => l._aws !== undefined)?.outcome).sort();
    expect(outcomes).toEqual(["duplicate", "succeeded"]);
    await expectOneConsistentOutcome(id);
    const loser = workers.find((w) =>
      w.lines.some((l) => l.msg === "another delivery decided the job first: kept its outcome"),
    );
    expect(loser).toBeDefined();
  });

  it("SIGTERM (grace 0) while result.json's PUT is held: the requeued job's next worker completes the copy, JobsSucceeded once", async () => {
    // A queue of its own: a receive of a worker killed earlier may still be open on the shared one.
    const heldQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "held-copy-jobs" }))).QueueUrl as string;
    const proxy = await startS3Proxy(moto.endpoint);
    const id = jobId(21);
    const held = proxy.rule({
      match: new RegExp(`^PUT /${BUCKET}/analysis/${id}/result\\.json`),
      hold: true,
      times: 1,
    });
    const env = onMoto(heldQueueUrl);
    try {
      const first = startWorker({ ...env, AWS_ENDPOINT_URL_S3: proxy.endpoint, WORKER_SHUTDOWN_GRACE_S: "0" });
      workers.push(first);
      await first.waitForLog((l) => l.msg === "worker started", 20_000, "start");
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: heldQueueUrl,
          MessageBody: JSON.stringify({ jobId: id, videoKey: "uploads/four-three.mp4" }),
        }),
      );
      await proxy.hit(held, 1, 40_000).catch((error) => {
        throw new Error(
          `${error.message}; first worker's log:\n${first.lines.map((l) => JSON.stringify(l)).join("\n")}`,
        );
      });
      expect(await first.stop("SIGTERM")).toEqual({ code: 0, signal: null });
      expect(first.lines.filter((l) => l._aws !== undefined).map((l) => l.outcome)).toEqual(["released"]);
      const second = startWorker(env);
      workers.push(second);
      await waitFor(() => second.lines.some((l) => l._aws !== undefined), 60_000, "the requeued job to be settled");
      expect(second.lines.filter((l) => l._aws !== undefined).map((l) => l.outcome)).toEqual(["succeeded"]);
      expect(second.lines.map((l) => l.msg)).toContain(
        "the job was decided but its copy was missing: completed it (the deciding delivery did not)",
      );
      await expectOneConsistentOutcome(id);
    } finally {
      await proxy.close();
    }
  });
});
