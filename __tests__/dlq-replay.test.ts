/**
 * dlq:replay through the command, on fauxqs (real SQS wire protocol, loopback);
 * and the "delete only what was sent" rule with a fake client.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { replay } from "../tools/lib/sqs/dlq.js";
import { WORKER_CONTRACT } from "../worker-src/src/contract.js";
import { runTool } from "./helpers/cli.js";

const credentials = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-2" };
// fauxqs is ESM-only; this project is CommonJS, so it comes in through import(),
// and its types are out of reach of this project's module resolution: what is used here.
let server: { port: number; stop(): Promise<void> };
let sqs: SQSClient;
let endpoint: string;
let queues = 0;

beforeAll(async () => {
  const { startFauxqs } = (await import("fauxqs")) as {
    startFauxqs(options: { port: number; logger: boolean; defaultRegion: string }): Promise<typeof server>;
  };
  server = await startFauxqs({ port: 0, logger: false, defaultRegion: "us-east-2" });
  endpoint = `http://127.0.0.1:${server.port}`;
  sqs = new SQSClient({ region: "us-east-2", endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
});
afterAll(async () => {
  sqs?.destroy();
  await server?.stop();
});

async function queuesWithDeadLetters(count: number) {
  const n = ++queues;
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `jobs-${n}-dlq` }))).QueueUrl as string;
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `jobs-${n}` }))).QueueUrl as string;
  for (let i = 0; i < count; i++) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: JSON.stringify({ jobId: `00000000-0000-4000-8000-00000000000${i}`, videoKey: `uploads/${i}.mp4` }),
        MessageAttributes: { source: { DataType: "String", StringValue: "backend" } },
      }),
    );
  }
  return { dlqUrl, queueUrl };
}

const visible = async (url: string) =>
  Number(
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] })))
      .Attributes?.ApproximateNumberOfMessages,
  );
const replayCli = (...args: string[]) =>
  runTool("dlq-replay", ["--endpoint-url", endpoint, ...args], { env: credentials });

describe("dlq:replay", () => {
  it("lists what would move with --dry-run and moves nothing", async () => {
    const { dlqUrl, queueUrl } = await queuesWithDeadLetters(3);
    const result = await replayCli("--dlq-url", dlqUrl, "--queue-url", queueUrl, "--dry-run");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines.filter((l) => l.startsWith("would-move "))).toHaveLength(3);
    expect(lines.at(-1)).toBe(`dry run: 3 message(s) would move from ${dlqUrl} to ${queueUrl}; nothing moved`);
    expect(await visible(dlqUrl)).toBe(3);
    expect(await visible(queueUrl)).toBe(0);
  });

  it("moves --max messages, then the rest, bodies and attributes intact, and empties the dead-letter queue", async () => {
    const { dlqUrl, queueUrl } = await queuesWithDeadLetters(5);
    const first = await replayCli("--dlq-url", dlqUrl, "--queue-url", queueUrl, "--max", "2");
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split("\n").at(-1)).toBe(`moved 2 message(s) from ${dlqUrl} to ${queueUrl}`);
    expect(await visible(dlqUrl)).toBe(3);
    expect(await visible(queueUrl)).toBe(2);

    const rest = await replayCli("--dlq-url", dlqUrl, "--queue-url", queueUrl);
    expect(rest.code).toBe(0);
    expect(rest.stdout.trim().split("\n").at(-1)).toBe(`moved 3 message(s) from ${dlqUrl} to ${queueUrl}`);
    expect(await visible(dlqUrl)).toBe(0);

    const moved = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
    );
    expect((moved.Messages ?? []).map((m) => JSON.parse(m.Body as string).videoKey).sort()).toEqual([
      "uploads/0.mp4",
      "uploads/1.mp4",
      "uploads/2.mp4",
      "uploads/3.mp4",
      "uploads/4.mp4",
    ]);
    for (const m of moved.Messages ?? []) {
      expect(m.MessageAttributes?.source).toMatchObject({ DataType: "String", StringValue: "backend" });
    }
  });

  it("drops the worker's attempts attribute, so that a replayed job starts afresh; keeps the others", async () => {
    const { dlqUrl, queueUrl } = await queuesWithDeadLetters(0);
    const attempts = WORKER_CONTRACT.queue.attemptsAttribute;
    const reason = WORKER_CONTRACT.queue.deadLetterReasonAttribute;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: JSON.stringify({ jobId: "00000000-0000-4000-8000-000000000009", videoKey: "uploads/9.mp4" }),
        MessageAttributes: {
          source: { DataType: "String", StringValue: "backend" },
          [attempts]: { DataType: "Number", StringValue: "4" },
          [reason]: { DataType: "String", StringValue: "timed-out" },
        },
      }),
    );
    const result = await replayCli("--dlq-url", dlqUrl, "--queue-url", queueUrl);
    expect(result.code).toBe(0);
    const moved = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
    );
    expect(moved.Messages).toHaveLength(1);
    const attributes = moved.Messages?.[0].MessageAttributes ?? {};
    expect(Object.keys(attributes).sort()).toEqual([reason, "source"].sort());
    expect(attributes[attempts]).toBeUndefined();
  });

  it("says so when there is nothing to move", async () => {
    const { dlqUrl, queueUrl } = await queuesWithDeadLetters(0);
    const result = await replayCli("--dlq-url", dlqUrl, "--queue-url", queueUrl);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`moved 0 message(s) from ${dlqUrl} to ${queueUrl}\n`);
  });

  it.each([
    [[], "dlq:replay: --dlq-url is required; usage:"],
    [
      ["--dlq-url", "jobs-dlq", "--queue-url", "x"],
      'dlq:replay: --dlq-url must be a queue URL such as https://sqs.us-east-2.amazonaws.com/123456789012/name, got "jobs-dlq"',
    ],
    [
      ["--dlq-url", "http://127.0.0.1:1/000000000000/a", "--queue-url", "http://127.0.0.1:1/000000000000/a"],
      "dlq:replay: --dlq-url and --queue-url are the same queue",
    ],
    [
      [
        "--dlq-url",
        "http://127.0.0.1:1/000000000000/a",
        "--queue-url",
        "http://127.0.0.1:1/000000000000/b",
        "--max",
        "0",
      ],
      'dlq:replay: --max must be a whole number >= 1, got "0"',
    ],
  ])("rejects %j with one clear line", async (args, message) => {
    const result = await replayCli(...args);
    expect(result.code).toBe(1);
    expect(result.stderr.startsWith(message)).toBe(true);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("moves nothing when the target queue does not exist", async () => {
    const { dlqUrl } = await queuesWithDeadLetters(2);
    const missing = dlqUrl.replace(/jobs-\d+-dlq$/, "no-such-queue");
    const result = await replayCli("--dlq-url", dlqUrl, "--queue-url", missing);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`dlq:replay: --queue-url ${missing}: no such queue\n`);
    expect(await visible(dlqUrl)).toBe(2);
  });
});

describe("replay (unit, fake SQS client)", () => {
  it("deletes from the dead-letter queue only what the target accepted, and releases the rest at once", async () => {
    const messages = ["a", "b", "c"].map((body, i) => ({ MessageId: `m${i}`, ReceiptHandle: `r${i}`, Body: body }));
    let received = false;
    const calls: { name: string; input: Record<string, unknown> }[] = [];
    const send = vi.fn(async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      calls.push({ name: command.constructor.name, input: command.input });
      switch (command.constructor.name) {
        case "ReceiveMessageCommand":
          if (received) return { Messages: [] };
          received = true;
          return { Messages: messages };
        case "SendMessageBatchCommand":
          return {
            Successful: [{ Id: "0" }, { Id: "2" }],
            Failed: [{ Id: "1", Code: "InternalError", Message: "try later" }],
          };
        default:
          return { Successful: [], Failed: [] };
      }
    });
    const events: string[] = [];
    const result = await replay({
      sqs: { send } as unknown as SQSClient,
      dlqUrl: "https://sqs.us-east-2.amazonaws.com/123456789012/jobs-dlq",
      queueUrl: "https://sqs.us-east-2.amazonaws.com/123456789012/jobs",
      onMessage: (e) => events.push(`${e.outcome} ${e.messageId}`),
    });
    expect(result).toEqual({ moved: 2, wouldMove: 0, sendFailed: 1, deleteFailed: 0 });
    const deletes = calls.filter((c) => c.name === "DeleteMessageBatchCommand");
    expect(deletes).toHaveLength(1);
    expect((deletes[0].input.Entries as { ReceiptHandle: string }[]).map((e) => e.ReceiptHandle)).toEqual(["r0", "r2"]);
    const released = calls.filter((c) => c.name === "ChangeMessageVisibilityBatchCommand");
    expect(released[0].input.Entries as { ReceiptHandle: string; VisibilityTimeout: number }[]).toEqual([
      { Id: "0", ReceiptHandle: "r1", VisibilityTimeout: 0 },
    ]);
    expect(events).toEqual(["send-failed m1", "moved m0", "moved m2"]);
  });
});
