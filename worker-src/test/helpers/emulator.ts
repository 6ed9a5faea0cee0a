/**
 * fauxqs in process on a loopback port: SQS (a jobs queue with a dead-letter
 * queue and redrive policy) and S3 (the videos bucket), spoken to over the real
 * wire protocols by the AWS SDK.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { startFauxqs } from "fauxqs";
import { WORKER_CONTRACT } from "../../src/contract.js";

export const REGION = "us-east-2";
export const BUCKET = "cricksy-test-videos";
/** fauxqs takes request bodies up to 11 MiB; larger objects are uploaded in parts. */
const PART_SIZE = 8 * 1024 * 1024;
export const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

export interface EmulatorOptions {
  /** Receives after which a message goes to the dead-letter queue. Default 3. */
  maxReceiveCount?: number;
  /** Queue name suffix, so that tests in one emulator do not share queues. */
  name?: string;
}

export interface PeekedMessage {
  body?: string;
  receiveCount: number;
  attempts?: number;
  deadLetterReason?: string;
}

export interface Emulator {
  endpoint: string;
  sqs: SQSClient;
  s3: S3Client;
  queueUrl: string;
  dlqUrl: string;
  /** The environment a worker needs to talk to this emulator. */
  env: Record<string, string>;
  sendJob(body: unknown, attributes?: Record<string, string>): Promise<string>;
  putObject(key: string, body: Buffer | string): Promise<void>;
  getJson<T = Record<string, unknown>>(key: string): Promise<T | undefined>;
  listKeys(prefix: string): Promise<string[]>;
  counts(url?: string): Promise<{ visible: number; inFlight: number }>;
  /**
   * Receives (and so hides for `visibilityS`) what is visible now; `attempts` is the
   * worker's attempts attribute (real attempts before a requeue), when the message has it.
   */
  peek(url: string, visibilityS?: number): Promise<PeekedMessage[]>;
  stop(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const server = await startFauxqs({ port: 0, logger: false, defaultRegion: REGION });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const sqs = new SQSClient({ region: REGION, endpoint, credentials: CREDENTIALS });
  const s3 = new S3Client({ region: REGION, endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  const name = options.name ?? "analysis-jobs";

  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))
  ).Attributes?.QueueArn;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: "30",
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: options.maxReceiveCount ?? 3 }),
      },
    }),
  );
  server.createBucket(BUCKET);
  const queueUrl = queue.QueueUrl as string;
  const dlqUrl = dlq.QueueUrl as string;

  const counts = async (url = queueUrl) => {
    const out = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return {
      visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  };

  return {
    endpoint,
    sqs,
    s3,
    queueUrl,
    dlqUrl,
    env: {
      SQS_QUEUE_URL: queueUrl,
      S3_BUCKET: BUCKET,
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    },
    async sendJob(body, attributes) {
      const out = await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: typeof body === "string" ? body : JSON.stringify(body),
          ...(attributes
            ? {
                MessageAttributes: Object.fromEntries(
                  Object.entries(attributes).map(([k, v]) => [
                    k,
                    { DataType: /^\d+$/.test(v) ? "Number" : "String", StringValue: v },
                  ]),
                ),
              }
            : {}),
        }),
      );
      return out.MessageId as string;
    },
    async putObject(key, content) {
      const body = typeof content === "string" ? Buffer.from(content) : content;
      if (body.length <= PART_SIZE) {
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
        return;
      }
      // Large videos go up in parts, as browsers and the backend upload them.
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
      const parts = [];
      for (let offset = 0, n = 1; offset < body.length; offset += PART_SIZE, n++) {
        const part = await s3.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId,
            PartNumber: n,
            Body: body.subarray(offset, offset + PART_SIZE),
          }),
        );
        parts.push({ ETag: part.ETag, PartNumber: n });
      }
      await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
      );
    },
    async getJson(key) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        return JSON.parse(await (out.Body as { transformToString(): Promise<string> }).transformToString());
      } catch (error) {
        if ((error as { name?: string }).name === "NoSuchKey") return undefined;
        throw error;
      }
    },
    async listKeys(prefix) {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      return (out.Contents ?? []).map((o) => o.Key as string).sort();
    },
    counts,
    async peek(url, visibilityS = 30) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: visibilityS,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          MessageAttributeNames: ["All"],
        }),
      );
      const { attemptsAttribute, deadLetterReasonAttribute } = WORKER_CONTRACT.queue;
      return (out.Messages ?? []).map((m) => {
        const attempts = m.MessageAttributes?.[attemptsAttribute]?.StringValue;
        const reason = m.MessageAttributes?.[deadLetterReasonAttribute]?.StringValue;
        return {
          body: m.Body,
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
          ...(attempts === undefined ? {} : { attempts: Number(attempts) }),
          ...(reason === undefined ? {} : { deadLetterReason: reason }),
        };
      });
    },
    async stop() {
      sqs.destroy();
      s3.destroy();
      await server.stop();
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
  what = "condition",
): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
