/**
 * Throughput and per-message overhead of the worker's consumer loop against
 * sqs-consumer (bbc/sqs-consumer, the common library), side by side in one run:
 *
 * 1. the same trivial handler on fauxqs, at concurrency 1, 10 and 50;
 * 2. the case the loop exists for: handler times spread from 10 to 200 ms (the
 *    same seeded sequence for both), at concurrency 10, where consuming batch by
 *    batch waits for the slowest job of each batch and refilling free slots does not;
 * 3. the cost of the decode check (every frame decoded, analysis.ts) per second
 *    of video, on videos made by ffmpeg's test source.
 *
 *   npm --prefix worker-src run bench [-- --messages 2000 --rounds 3]
 *
 * Each configuration runs `rounds` times, the two consumers alternating; the
 * table shows medians.
 *
 * sqs-consumer cannot hold more than one batch (at most 10) in flight, so its
 * concurrency c runs as ceil(c/10) consumers of batchSize min(c, 10). fauxqs
 * runs in a child process: the CPU time reported is the consumers' (and the
 * AWS SDK's), per message.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Consumer as SqsConsumer } from "sqs-consumer";
import { analyseVideo } from "../dist/analysis.js";
import { Consumer } from "../dist/consumer.js";
import { createLogger } from "../dist/logger.js";

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at > 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} needs a whole number >= 1`);
    process.exit(1);
  }
  return value;
}
const N = flag("messages", 2000);
const ROUNDS = flag("rounds", 3);
const CONCURRENCY = [1, 10, 50];

const emulator = spawn(process.execPath, [new URL("./emulator-process.ts", import.meta.url).pathname], {
  stdio: ["ignore", "pipe", "inherit"],
});
const port = await new Promise<number>((resolve) =>
  emulator.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
);
const endpoint = `http://127.0.0.1:${port}`;
const sqs = new SQSClient({ region: "us-east-2", endpoint, credentials: { accessKeyId: "b", secretAccessKey: "b" } });

let queues = 0;
async function loadedQueue(count: number): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `bench-${++queues}` }));
  for (let i = 0; i < count; i += 10) {
    const entries = Array.from({ length: Math.min(10, count - i) }, (_, k) => ({
      Id: String(k),
      MessageBody: JSON.stringify({ n: i + k }),
    }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
  }
  return QueueUrl as string;
}

interface Measured {
  seconds: number;
  cpuUsPerMessage: number;
}

async function measure(count: number, run: (done: () => void) => Promise<() => Promise<void>>): Promise<Measured> {
  let handled = 0;
  let finish = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const stop = await run(() => {
    if (++handled === count) finish();
  });
  await finished;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  await stop();
  return { seconds, cpuUsPerMessage: (used.user + used.system) / count };
}

/** Handler time per message: none (trivial), or from a seeded sequence indexed by the message's number. */
type Work = (n: number) => Promise<void>;
const trivial: Work = async () => {};
/** 10-200 ms, xorshift32 from a fixed seed: message n takes the same time under both consumers. */
function spreadTimes(count: number, seed = 2026): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return 10 + Math.floor((state / 2 ** 32) * 191);
  });
}
const spread =
  (times: number[]): Work =>
  (n) =>
    new Promise((resolve) => setTimeout(resolve, times[n % times.length]));
const numberOf = (body: string | undefined) => (JSON.parse(body ?? "{}") as { n: number }).n;

function ours(concurrency: number, count: number, work: Work = trivial): Promise<Measured> {
  return loadedQueue(count).then((queueUrl) =>
    measure(count, async (done) => {
      const consumer = new Consumer({
        sqs,
        queueUrl,
        log: createLogger({ level: "warn" }),
        handler: async (message) => {
          await work(numberOf(message.Body));
          done();
          return { kind: "delete", outcome: "succeeded" };
        },
        concurrency,
        visibilityTimeoutS: 60,
        waitTimeS: 1,
        jobTimeoutS: 60,
        retryBaseS: 1,
        retryMaxS: 10,
      });
      void consumer.run();
      return () => consumer.stop(10);
    }),
  );
}

function theirs(concurrency: number, count: number, work: Work = trivial): Promise<Measured> {
  return loadedQueue(count).then((queueUrl) =>
    measure(count, async (done) => {
      const instances = Array.from({ length: Math.ceil(concurrency / 10) }, () =>
        SqsConsumer.create({
          sqs,
          queueUrl,
          batchSize: Math.min(concurrency, 10),
          waitTimeSeconds: 1,
          visibilityTimeout: 60,
          pollingCompleteWaitTimeMs: 5000,
          handleMessage: async (message) => {
            await work(numberOf(message.Body));
            done();
            return message;
          },
        }),
      );
      for (const instance of instances) instance.start();
      return async () => {
        await Promise.all(
          instances.map(
            (instance) =>
              new Promise<void>((resolve) => {
                instance.once("stopped", () => resolve());
                instance.stop();
              }),
          ),
        );
      };
    }),
  );
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const rows: string[][] = [];
for (const concurrency of CONCURRENCY) {
  const count = concurrency === 1 ? Math.min(N, 500) : N;
  const a: Measured[] = [];
  const b: Measured[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    a.push(await ours(concurrency, count));
    b.push(await theirs(concurrency, count));
  }
  rows.push([
    String(concurrency),
    String(count),
    median(a.map((m) => count / m.seconds)).toFixed(0),
    median(b.map((m) => count / m.seconds)).toFixed(0),
    median(a.map((m) => m.cpuUsPerMessage)).toFixed(0),
    median(b.map((m) => m.cpuUsPerMessage)).toFixed(0),
  ]);
}

const header = [
  "concurrency",
  "messages",
  "jobs/s ours",
  "jobs/s sqs-consumer",
  "CPU µs/msg ours",
  "CPU µs/msg sqs-consumer",
];
console.log(
  `node ${process.version}, fauxqs on loopback, trivial handler, median of ${ROUNDS} rounds; ${new Date().toISOString()}`,
);
console.log(`| ${header.join(" | ")} |`);
console.log(`| ${header.map(() => "---").join(" | ")} |`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);

// 2. Spread handler times at concurrency 10.
const SPREAD_MESSAGES = Math.min(N, 400);
const times = spreadTimes(SPREAD_MESSAGES);
const meanMs = times.reduce((a, b) => a + b, 0) / times.length;
const spreadOurs: Measured[] = [];
const spreadTheirs: Measured[] = [];
for (let round = 0; round < ROUNDS; round++) {
  spreadOurs.push(await ours(10, SPREAD_MESSAGES, spread(times)));
  spreadTheirs.push(await theirs(10, SPREAD_MESSAGES, spread(times)));
}
const jobsPerS = (ms: Measured[]) => median(ms.map((m) => SPREAD_MESSAGES / m.seconds));
console.log("");
console.log(
  `handler times 10-200 ms (seeded, the same sequence for both), concurrency 10, ${SPREAD_MESSAGES} messages, median of ${ROUNDS} rounds`,
);
console.log("| jobs/s ours | jobs/s sqs-consumer | ratio | ideal (10 / mean handler time) |");
console.log("| --- | --- | --- | --- |");
console.log(
  `| ${jobsPerS(spreadOurs).toFixed(1)} | ${jobsPerS(spreadTheirs).toFixed(1)} | ${(jobsPerS(spreadOurs) / jobsPerS(spreadTheirs)).toFixed(2)}× | ${(10 / (meanMs / 1000)).toFixed(1)} |`,
);

sqs.destroy();
emulator.kill("SIGTERM");

// 3. The analysis' cost per second of video: ffprobe (container, packet list) and the one ffmpeg pass
// that decodes every frame and writes the 3 thumbnails.
const videos = mkdtempSync(join(tmpdir(), "cricksy-bench-videos-"));
const VIDEOS = [
  { width: 320, height: 240, fps: 25, seconds: 60, codec: "h264" },
  { width: 1280, height: 720, fps: 30, seconds: 60, codec: "h264" },
  { width: 1920, height: 1080, fps: 30, seconds: 30, codec: "h264" },
  { width: 1280, height: 720, fps: 30, seconds: 60, codec: "vp9" },
];
const ENCODERS: Record<string, string[]> = {
  h264: ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
  vp9: ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "2M"],
};
console.log("");
console.log(
  `analysis (ffprobe, packet list, one ffmpeg pass: decode check of every frame + 3 thumbnails), median of ${ROUNDS} runs`,
);
console.log("| video | file | analysis wall time | ms per second of video | CPU ms per second of video |");
console.log("| --- | --- | --- | --- | --- |");
for (const v of VIDEOS) {
  const file = join(videos, `${v.width}x${v.height}-${v.codec}.${v.codec === "vp9" ? "webm" : "mp4"}`);
  execFileSync("ffmpeg", [
    ...["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"],
    ...["-i", `testsrc2=size=${v.width}x${v.height}:rate=${v.fps}:duration=${v.seconds}`],
    ...ENCODERS[v.codec],
    ...["-g", String(v.fps), file],
  ]);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const thumbnails = mkdtempSync(join(videos, "thumbs-"));
    const cpuBefore = childrenCpuMs();
    const started = process.hrtime.bigint();
    await analyseVideo(file, new AbortController().signal, undefined, { thumbnails: { dir: thumbnails, count: 3 } });
    wall.push(Number(process.hrtime.bigint() - started) / 1e6);
    cpu.push(childrenCpuMs() - cpuBefore);
  }
  const size = `${(Number(execFileSync("stat", ["-c", "%s", file], { encoding: "utf8" })) / 1e6).toFixed(0)} MB`;
  console.log(
    `| ${v.codec === "vp9" ? "VP9" : "H.264"} ${v.width}x${v.height} ${v.fps} fps, ${v.seconds} s | ${size} | ${(median(wall) / 1000).toFixed(2)} s | ${(median(wall) / v.seconds).toFixed(0)} | ${(median(cpu) / v.seconds).toFixed(0)} |`,
  );
}
rmSync(videos, { recursive: true, force: true });

/**
 * CPU time (user + system, ms) of this process's finished children (ffprobe, ffmpeg):
 * cutime and cstime, fields 16 and 17 of /proc/self/stat, in clock ticks of 1/100 s.
 * ffmpeg decodes with several threads, so CPU time can exceed wall time.
 */
function childrenCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command name: field 3 is index 0, so cutime (16) and cstime (17) are 13 and 14.
  return (Number(fields[13]) + Number(fields[14])) * 10;
}
