/**
 * A loopback stand-in for the AWS reads that an offline plan makes, for one
 * account and region, on one port (the offline override points the provider's
 * `endpoints.sts` and `endpoints.sqs` at `url`):
 *
 * - STS `GetCallerIdentity` (query protocol, XML): `data.aws_caller_identity` is
 *   read on every plan, even with `-refresh=false`;
 * - SQS `GetQueueUrl`, `GetQueueAttributes` and `ListQueueTags` (the AWS JSON
 *   1.0 protocol: `X-Amz-Target: AmazonSQS.<Action>`), which `data "aws_sqs_queue"`
 *   reads, for a configured set of queues. An unknown queue gets SQS's own
 *   answer: HTTP 400, `x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender`,
 *   `{"__type": "com.amazonaws.sqs#QueueDoesNotExist", ...}`, so a plan that looks
 *   up a wrong name fails as it would against AWS.
 *
 * Every request is recorded in `calls` (service, action, queue), answered or
 * not, so a test can assert that nothing else was asked. Anything else gets an
 * error in the protocol it was asked in.
 *
 * A queue is given by name; the responder builds its URL
 * (`https://sqs.<region>.amazonaws.com/<account>/<name>`), ARN and default
 * attributes as SQS reports them for a queue created with defaults (FIFO ones
 * for a `.fifo` name). `deadLetterQueue` names another queue: the queue then has
 * a `RedrivePolicy` naming that queue's ARN.
 *
 *   const aws = await startAwsResponder({
 *     accountId: "123456789012",
 *     region: "us-east-2",
 *     queues: [{ name: "jobs", deadLetterQueue: "jobs-dlq" }, { name: "jobs-dlq" }],
 *   });
 *   // ... terraform plan with endpoints { sts = aws.url, sqs = aws.url } ...
 *   aws.calls; // [{ service: "sts", action: "GetCallerIdentity" }, { service: "sqs", action: "GetQueueUrl", queue: "jobs" }, ...]
 *   await aws.close();
 *
 * The offline harness (workdir.ts) starts one per workdir and gives it the
 * queues that the plan's inputs name (inputs.ts, `queuesFor`); a test that plans
 * other lookups passes `queues` to `offlineWorkdir` or calls `setQueues`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface QueueSpec {
  /** The queue's name (`.fifo` at the end for a FIFO queue). */
  name: string;
  /** Name of its dead-letter queue: the queue's `RedrivePolicy` names that queue's ARN. */
  deadLetterQueue?: string;
  /** `maxReceiveCount` of the redrive policy. Default: 5. */
  maxReceiveCount?: number;
  /** Attributes that replace or add to the defaults (values as SQS gives them: strings). */
  attributes?: Record<string, string>;
  /** The queue's tags (`ListQueueTags`). Default: none. */
  tags?: Record<string, string>;
}

export interface AwsCall {
  service: "sts" | "sqs" | "unknown";
  /** `GetCallerIdentity`, `GetQueueUrl`, ... or what else was asked (`(none)` when nothing could be read). */
  action: string;
  /** The queue the call named (by name or by URL), for SQS calls. */
  queue?: string;
  /** The HTTP status it was answered with. */
  status: number;
  /** What was sent: the JSON body (SQS), or the form fields (STS). */
  input: Record<string, unknown>;
}

export interface AwsResponderOptions {
  accountId: string;
  /** The region the queues live in. Default: us-east-2. */
  region?: string;
  queues?: QueueSpec[];
  /** Caller ARN that STS reports. Default: `arn:aws:iam::<account>:user/offline-plan`. */
  callerArn?: string;
  /**
   * Answer every queue name of this account and region as an existing queue with default
   * attributes (the configured queues keep theirs): for plans whose queues are stand-ins
   * (the diff), not for tests of a wrong name. Default: false.
   */
  answerAnyQueue?: boolean;
}

export interface AwsResponder {
  url: string;
  accountId: string;
  readonly region: string;
  /** Every request received, in order. */
  calls: AwsCall[];
  /** Replaces the queues (and, when given, the region) that SQS knows. */
  setQueues(queues: QueueSpec[], region?: string): void;
  /** Whether every queue name is answered (see AwsResponderOptions.answerAnyQueue). */
  answerAnyQueue: boolean;
  /** The URL and ARN the responder gives a queue of this name. */
  queueUrl(name: string): string;
  queueArn(name: string): string;
  close(): Promise<void>;
}

/** The attributes that `GetQueueAttributes` accepts (besides `All`), from the SQS API reference. */
const ATTRIBUTE_NAMES = new Set([
  "Policy",
  "VisibilityTimeout",
  "MaximumMessageSize",
  "MessageRetentionPeriod",
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "CreatedTimestamp",
  "LastModifiedTimestamp",
  "QueueArn",
  "ApproximateNumberOfMessagesDelayed",
  "DelaySeconds",
  "ReceiveMessageWaitTimeSeconds",
  "RedrivePolicy",
  "FifoQueue",
  "ContentBasedDeduplication",
  "KmsMasterKeyId",
  "KmsDataKeyReusePeriodSeconds",
  "DeduplicationScope",
  "FifoThroughputLimit",
  "RedriveAllowPolicy",
  "SqsManagedSseEnabled",
]);

/** A fixed creation time (2025-01-01T00:00:00Z), so that plans are the same on every run. */
const CREATED = "1735689600";

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/** Service and region of a SigV4 request: `Credential=<key>/<date>/<region>/<service>/aws4_request`. */
function credentialScope(request: IncomingMessage): { region?: string; service?: string } {
  const match = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(request.headers.authorization ?? "");
  return { region: match?.[1], service: match?.[2] };
}

export async function startAwsResponder(options: AwsResponderOptions): Promise<AwsResponder> {
  const { accountId } = options;
  const callerArn = options.callerArn ?? `arn:aws:iam::${accountId}:user/offline-plan`;
  let region = options.region ?? "us-east-2";
  let queues = new Map<string, QueueSpec>();
  const calls: AwsCall[] = [];
  const state = { answerAnyQueue: options.answerAnyQueue === true };
  /** A queue SQS knows by this name: a configured one, or (answering any) one with defaults. */
  const queueNamed = (name: string): QueueSpec | undefined =>
    queues.get(name) ?? (state.answerAnyQueue && /^[\w-]{1,80}(\.fifo)?$/.test(name) ? { name } : undefined);

  const queueUrl = (name: string) => `https://sqs.${region}.amazonaws.com/${accountId}/${name}`;
  const queueArn = (name: string) => `arn:aws:sqs:${region}:${accountId}:${name}`;
  const setQueues = (list: QueueSpec[], newRegion?: string) => {
    if (newRegion) region = newRegion;
    queues = new Map(list.map((q) => [q.name, q]));
  };
  setQueues(options.queues ?? []);

  function attributesOf(queue: QueueSpec): Record<string, string> {
    const fifo = queue.name.endsWith(".fifo");
    return {
      QueueArn: queueArn(queue.name),
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "0",
      ApproximateNumberOfMessagesDelayed: "0",
      CreatedTimestamp: CREATED,
      LastModifiedTimestamp: CREATED,
      VisibilityTimeout: "30",
      MaximumMessageSize: "262144",
      MessageRetentionPeriod: "345600",
      DelaySeconds: "0",
      ReceiveMessageWaitTimeSeconds: "0",
      SqsManagedSseEnabled: "true",
      ...(fifo
        ? {
            FifoQueue: "true",
            ContentBasedDeduplication: "false",
            DeduplicationScope: "queue",
            FifoThroughputLimit: "perQueue",
          }
        : {}),
      ...(queue.deadLetterQueue
        ? {
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: queueArn(queue.deadLetterQueue),
              maxReceiveCount: queue.maxReceiveCount ?? 5,
            }),
          }
        : {}),
      ...queue.attributes,
    };
  }

  /** The queue that a QueueUrl names: this account and region, a known name. */
  const byUrl = (url: unknown) => {
    const name = typeof url === "string" ? url.split("/").at(-1) : undefined;
    return name !== undefined && url === queueUrl(name) ? queueNamed(name) : undefined;
  };

  function sqsJson(response: ServerResponse, status: number, body: unknown, queryError?: string) {
    response.writeHead(status, {
      "content-type": "application/x-amz-json-1.0",
      "x-amzn-requestid": "00000000-0000-0000-0000-000000000000",
      ...(queryError ? { "x-amzn-query-error": queryError } : {}),
    });
    response.end(JSON.stringify(body));
  }

  const noSuchQueue = (response: ServerResponse) =>
    sqsJson(
      response,
      400,
      { __type: "com.amazonaws.sqs#QueueDoesNotExist", message: "The specified queue does not exist." },
      "AWS.SimpleQueueService.NonExistentQueue;Sender",
    );

  function answerSqs(action: string, input: Record<string, unknown>, response: ServerResponse, call: AwsCall) {
    if (action === "GetQueueUrl") {
      call.queue = String(input.QueueName ?? "");
      const owner = input.QueueOwnerAWSAccountId;
      const queue = queueNamed(call.queue);
      if (!queue || (owner !== undefined && owner !== accountId)) return noSuchQueue(response);
      return sqsJson(response, 200, { QueueUrl: queueUrl(queue.name) });
    }
    if (action === "GetQueueAttributes" || action === "ListQueueTags") {
      call.queue = String(input.QueueUrl ?? "");
      const queue = byUrl(input.QueueUrl);
      if (!queue) return noSuchQueue(response);
      if (action === "ListQueueTags") {
        return sqsJson(response, 200, queue.tags && Object.keys(queue.tags).length ? { Tags: queue.tags } : {});
      }
      const names = Array.isArray(input.AttributeNames) ? (input.AttributeNames as string[]) : [];
      const unknown = names.find((n) => n !== "All" && !ATTRIBUTE_NAMES.has(n));
      if (unknown) {
        return sqsJson(
          response,
          400,
          { __type: "com.amazonaws.sqs#InvalidAttributeName", message: `Unknown Attribute ${unknown}.` },
          "InvalidAttributeName;Sender",
        );
      }
      const all = attributesOf(queue);
      const wanted = names.includes("All") ? Object.keys(all) : names;
      const attributes = Object.fromEntries(wanted.filter((n) => n in all).map((n) => [n, all[n]]));
      return sqsJson(response, 200, Object.keys(attributes).length ? { Attributes: attributes } : {});
    }
    return sqsJson(
      response,
      400,
      {
        __type: "com.amazonaws.sqs#UnsupportedOperation",
        message: `the offline SQS answers GetQueueUrl, GetQueueAttributes and ListQueueTags, not ${action}`,
      },
      "AWS.SimpleQueueService.UnsupportedOperation;Sender",
    );
  }

  function answerSts(action: string, response: ServerResponse) {
    response.writeHead(action === "GetCallerIdentity" ? 200 : 400, { "content-type": "text/xml" });
    if (action !== "GetCallerIdentity") {
      response.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>the offline STS answers only GetCallerIdentity, not ${action}</Message></Error><RequestId>offline</RequestId></ErrorResponse>`,
      );
      return;
    }
    response.end(
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${callerArn}</Arn><UserId>AIDAOFFLINEPLAN</UserId><Account>${accountId}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  }

  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const scope = credentialScope(request);
    const target = request.headers["x-amz-target"];
    const call: AwsCall = { service: "unknown", action: "(none)", status: 0, input: {} };
    calls.push(call);
    response.on("finish", () => {
      call.status = response.statusCode;
    });
    if (typeof target === "string" && target.startsWith("AmazonSQS.")) {
      call.service = "sqs";
      call.action = target.slice("AmazonSQS.".length);
      let input: Record<string, unknown> = {};
      try {
        input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
        call.input = input;
      } catch {
        return sqsJson(response, 400, { __type: "com.amazonaws.sqs#InvalidParameterValue", message: "not JSON" });
      }
      // Queues live in one region: a request signed for another finds none of them.
      if (scope.region && scope.region !== region) {
        call.queue = String(input.QueueName ?? input.QueueUrl ?? "");
        return noSuchQueue(response);
      }
      return answerSqs(call.action, input, response, call);
    }
    const form = new URLSearchParams(body);
    const query = new URLSearchParams(new URL(request.url ?? "/", "http://localhost").search);
    call.action = form.get("Action") ?? query.get("Action") ?? "(none)";
    call.input = Object.fromEntries([...query, ...form]);
    if (scope.service === "sqs") {
      // SQS's older query protocol: the provider speaks JSON; say so in the answer.
      call.service = "sqs";
      response.writeHead(400, { "content-type": "text/xml" });
      response.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>the offline SQS speaks the JSON protocol only</Message></Error><RequestId>offline</RequestId></ErrorResponse>`,
      );
      return;
    }
    call.service = scope.service === "sts" || scope.service === undefined ? "sts" : "unknown";
    answerSts(call.action, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accountId,
    get region() {
      return region;
    },
    calls,
    setQueues,
    get answerAnyQueue() {
      return state.answerAnyQueue;
    },
    set answerAnyQueue(value: boolean) {
      state.answerAnyQueue = value;
    },
    queueUrl,
    queueArn,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
