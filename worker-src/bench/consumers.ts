/**
 * Throughput and per-message overhead of the worker's consumer loop against
 * sqs-consumer (bbc/sqs-consumer, the common library), driving the same trivial
 * handler on fauxqs, at concurrency 1, 10 and 50, side by side in one run.
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
import { spawn } from "node:child_process";
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Consumer as SqsConsumer } from "sqs-consumer";
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

function ours(concurrency: number, count: number): Promise<Measured> {
  return loadedQueue(count).then((queueUrl) =>
    measure(count, async (done) => {
      const consumer = new Consumer({
        sqs,
        queueUrl,
        log: createLogger({ level: "warn" }),
        handler: async () => {
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

function theirs(concurrency: number, count: number): Promise<Measured> {
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

sqs.destroy();
emulator.kill("SIGTERM");
