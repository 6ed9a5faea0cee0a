/**
 * Moving messages from a dead-letter queue back to their queue without losing
 * any: a message is deleted from the dead-letter queue only after the target
 * queue accepted it. A message that could not be sent stays in the dead-letter
 * queue (visible again at once); one that was sent but not deleted will be sent
 * again by a later run, which the idempotent worker absorbs. Message attributes
 * go along, but the worker's attempts count (WORKER_CONTRACT.queue.attemptsAttribute):
 * a replayed job starts afresh.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { WORKER_CONTRACT } from "../../../worker-src/src/contract.js";
import { UsageError } from "../cli/errors.js";

/**
 * Message attributes a replayed job does not keep: the worker's count of attempts spent before
 * (a replayed job starts afresh, with SQS's receive count at zero).
 */
export const DROPPED_ON_REPLAY: ReadonlySet<string> = new Set([WORKER_CONTRACT.queue.attemptsAttribute]);

export interface ReplayOptions {
  sqs: SQSClient;
  dlqUrl: string;
  queueUrl: string;
  /** At most this many messages. Default: all. */
  max?: number;
  /** List what would move, move nothing. */
  dryRun?: boolean;
  /** Seconds a received message stays hidden while it is moved. Default 60. */
  visibilityTimeoutS?: number;
  onMessage?: (event: ReplayEvent) => void;
}

export interface ReplayEvent {
  messageId: string;
  outcome: "moved" | "would-move" | "send-failed" | "delete-failed";
  receiveCount: number;
  body: string;
  reason?: string;
}

export interface ReplayResult {
  moved: number;
  wouldMove: number;
  sendFailed: number;
  deleteFailed: number;
}

/** The queue's ARN, or a UsageError naming the option (and "no such queue" when SQS says so). */
export async function queueArn(sqs: SQSClient, url: string, option: string): Promise<string> {
  try {
    const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
    return out.Attributes?.QueueArn as string;
  } catch (error) {
    const e = error as { name?: string; message?: string };
    throw new UsageError(
      `${option} ${url}: ${e.name === "QueueDoesNotExist" || e.name === "AWS.SimpleQueueService.NonExistentQueue" ? "no such queue" : `${e.name}: ${e.message}`}`,
      { cause: error },
    );
  }
}

function entryFor(message: Message, index: number, fifo: boolean): SendMessageBatchRequestEntry {
  const attributes = Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).filter(([name]) => !DROPPED_ON_REPLAY.has(name)),
  );
  return {
    Id: String(index),
    MessageBody: message.Body ?? "",
    ...(Object.keys(attributes).length ? { MessageAttributes: attributes } : {}),
    ...(fifo
      ? {
          MessageGroupId: message.Attributes?.MessageGroupId ?? "dlq-replay",
          MessageDeduplicationId: message.Attributes?.MessageDeduplicationId ?? message.MessageId,
        }
      : {}),
  };
}

export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const { sqs, dlqUrl, queueUrl } = options;
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const fifo = queueUrl.endsWith(".fifo");
  const result: ReplayResult = { moved: 0, wouldMove: 0, sendFailed: 0, deleteFailed: 0 };
  const seen = new Set<string>();
  /** Messages held back (dry run, failed sends): made visible again at the end. */
  const release: Message[] = [];
  let emptyReceives = 0;

  try {
    while (result.moved + result.wouldMove < max && emptyReceives < 2) {
      const room = Math.min(10, max - result.moved - result.wouldMove);
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: room,
          WaitTimeSeconds: 1,
          VisibilityTimeout: options.visibilityTimeoutS ?? 60,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["All"],
        }),
      );
      const fresh = (out.Messages ?? []).filter((m) => !seen.has(m.MessageId as string));
      for (const m of out.Messages ?? []) if (seen.has(m.MessageId as string)) release.push(m);
      if (fresh.length === 0) {
        emptyReceives++;
        continue;
      }
      emptyReceives = 0;
      for (const m of fresh) seen.add(m.MessageId as string);
      const event = (m: Message, outcome: ReplayEvent["outcome"], reason?: string) =>
        options.onMessage?.({
          messageId: m.MessageId as string,
          outcome,
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
          body: m.Body ?? "",
          reason,
        });

      if (options.dryRun) {
        for (const m of fresh) event(m, "would-move");
        result.wouldMove += fresh.length;
        release.push(...fresh);
        continue;
      }

      const sent = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: fresh.map((m, i) => entryFor(m, i, fifo)) }),
      );
      const failedSends = new Map((sent.Failed ?? []).map((f) => [Number(f.Id), `${f.Code}: ${f.Message ?? ""}`]));
      const delivered = fresh.filter(
        (_, i) => !failedSends.has(i) && (sent.Successful ?? []).some((s) => s.Id === String(i)),
      );
      fresh.forEach((m, i) => {
        if (!delivered.includes(m)) {
          result.sendFailed++;
          release.push(m);
          event(m, "send-failed", failedSends.get(i) ?? "the target queue did not confirm it");
        }
      });
      if (delivered.length === 0) continue;
      const deleted = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: delivered.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      const failedDeletes = new Map((deleted.Failed ?? []).map((f) => [Number(f.Id), `${f.Code}: ${f.Message ?? ""}`]));
      delivered.forEach((m, i) => {
        if (failedDeletes.has(i)) {
          result.deleteFailed++;
          event(m, "delete-failed", failedDeletes.get(i));
        } else {
          result.moved++;
          event(m, "moved");
        }
      });
    }
  } finally {
    // Whatever was held back is visible again in the dead-letter queue at once.
    for (let i = 0; i < release.length; i += 10) {
      const batch = release.slice(i, i + 10);
      await sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: dlqUrl,
            Entries: batch.map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
          }),
        )
        .catch(() => {
          // Not fatal: they show again when their visibility timeout runs out.
        });
    }
  }
  return result;
}
