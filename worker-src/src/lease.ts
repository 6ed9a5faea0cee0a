/**
 * The hold of one received message: heartbeats extend its visibility timeout
 * while the job runs, and settling it (delete, release, requeue, move to the
 * dead-letter queue) first stops the heartbeats and waits for one in flight, so
 * a heartbeat never races the delete. Heartbeats stop at SQS's 12-hour visibility cap.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { SQS_MAX_VISIBILITY_S } from "./config.js";
import { WORKER_CONTRACT } from "./contract.js";
import { errorFields, type Logger } from "./logger.js";

/** Seconds kept free below the 12-hour cap, for clock skew and the final release. */
const CAP_MARGIN_S = 60;

export interface LeaseOptions {
  sqs: SQSClient;
  queueUrl: string;
  receiptHandle: string;
  /** The message itself: its body and attributes are copied by requeue() and moveTo(). */
  message?: Message;
  visibilityTimeoutS: number;
  /** When this worker received the message (ms since epoch). */
  receivedAt: number;
  log: Logger;
  /** The message is no longer ours (receipt handle invalid): the job should stop. */
  onLost: (error: unknown) => void;
  now?: () => number;
}

/** SQS says the receipt handle no longer holds the message. */
export function isLeaseLost(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  if (e?.name === "ReceiptHandleIsInvalid" || e?.name === "MessageNotInflight") return true;
  return e?.name === "InvalidParameterValue" && /receipt handle/i.test(e.message ?? "");
}

export class Lease {
  readonly intervalMs: number;
  private settled = false;
  private timer?: NodeJS.Timeout;
  private inflight: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly options: LeaseOptions) {
    this.now = options.now ?? Date.now;
    // A third of the timeout: two heartbeats may fail before the message shows again.
    this.intervalMs = Math.max(500, Math.floor((options.visibilityTimeoutS * 1000) / 3));
  }

  /** Seconds the message may still be kept invisible before the 12-hour cap. */
  remainingCapS(): number {
    return Math.floor(SQS_MAX_VISIBILITY_S - CAP_MARGIN_S - (this.now() - this.options.receivedAt) / 1000);
  }

  start(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.settled) return;
    this.timer = setTimeout(() => {
      this.inflight = this.beat();
    }, this.intervalMs);
  }

  private async beat(): Promise<void> {
    if (this.settled) return;
    const timeout = Math.min(this.options.visibilityTimeoutS, this.remainingCapS());
    if (timeout <= 0) {
      this.options.log.warn("visibility cap of 12 hours reached; no more heartbeats", {
        heldS: Math.round((this.now() - this.options.receivedAt) / 1000),
      });
      return;
    }
    try {
      await this.changeVisibility(timeout);
      this.options.log.debug("heartbeat", { visibilityTimeoutS: timeout });
    } catch (error) {
      if (isLeaseLost(error)) {
        this.options.log.warn("message lost: heartbeat refused", { err: errorFields(error) });
        this.settled = true;
        this.options.onLost(error);
        return;
      }
      this.options.log.warn("heartbeat failed; trying again at the next beat", { err: errorFields(error) });
    }
    this.schedule();
  }

  private async changeVisibility(timeoutS: number): Promise<void> {
    await this.options.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.options.queueUrl,
        ReceiptHandle: this.options.receiptHandle,
        VisibilityTimeout: timeoutS,
      }),
    );
  }

  /** Stops heartbeats; resolves once a heartbeat in flight has finished. */
  async stop(): Promise<void> {
    this.settled = true;
    clearTimeout(this.timer);
    await this.inflight;
  }

  /** Deletes the message after the heartbeats have stopped; retried on transient errors. */
  async delete(): Promise<void> {
    await this.stop();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.sqs.send(
          new DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: this.options.receiptHandle }),
        );
        return;
      } catch (error) {
        if (isLeaseLost(error) || attempt >= 3) {
          // The job is done and its result written; a redelivery finds the result and does nothing.
          this.options.log.warn("could not delete the message; a redelivery will find the job done", {
            err: errorFields(error),
          });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  /**
   * Gives the message back as a new copy (SendMessage of the same body and
   * attributes, with `attemptsAttribute` = `attemptsSoFar`), then deletes this one.
   * Unlike a release, the copy's receive count starts at 0, so a job interrupted by
   * shutdown keeps all its real attempts. When the send fails, falls back to a
   * release (visible at once; that receive then counts). Returns whether it requeued.
   */
  async requeue(attemptsSoFar: number): Promise<boolean> {
    const { attemptsAttribute } = WORKER_CONTRACT.queue;
    return this.sendCopyThenDelete(this.options.queueUrl, {
      [attemptsAttribute]: { DataType: "Number", StringValue: String(Math.max(0, attemptsSoFar)) },
    });
  }

  /**
   * Moves the message to `queueUrl` (the dead-letter queue) as the redrive policy
   * would, with the reason as an attribute and without the attempts attribute, so
   * that a replay starts afresh. Returns false (message released with `fallbackDelayS`) when the send fails.
   */
  async moveTo(queueUrl: string, reason: string, fallbackDelayS: number): Promise<boolean> {
    const { deadLetterReasonAttribute } = WORKER_CONTRACT.queue;
    return this.sendCopyThenDelete(
      queueUrl,
      { [deadLetterReasonAttribute]: { DataType: "String", StringValue: reason.slice(0, 1024) || "unknown" } },
      fallbackDelayS,
    );
  }

  private async sendCopyThenDelete(
    queueUrl: string,
    attributes: Record<string, MessageAttributeValue>,
    fallbackDelayS = 0,
  ): Promise<boolean> {
    await this.stop();
    const message = this.options.message;
    const { attemptsAttribute } = WORKER_CONTRACT.queue;
    const kept = Object.fromEntries(
      Object.entries(message?.MessageAttributes ?? {}).filter(([name]) => name !== attemptsAttribute),
    );
    const groupId = message?.Attributes?.MessageGroupId;
    try {
      await this.options.sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: message?.Body ?? "",
          MessageAttributes: { ...kept, ...attributes },
          // FIFO queues: same group; a fresh deduplication id, or SQS would drop the copy as a duplicate.
          ...(groupId ? { MessageGroupId: groupId, MessageDeduplicationId: crypto.randomUUID() } : {}),
        }),
      );
    } catch (error) {
      this.options.log.warn("could not send a copy of the message; releasing it instead", {
        err: errorFields(error),
        visibleAgainInS: fallbackDelayS,
      });
      await this.changeVisibilityQuietly(fallbackDelayS);
      return false;
    }
    await this.delete();
    return true;
  }

  private async changeVisibilityQuietly(delayS: number): Promise<void> {
    const timeout = Math.max(0, Math.min(delayS, this.remainingCapS()));
    try {
      await this.changeVisibility(timeout);
    } catch (error) {
      // Not fatal: the message shows again when its visibility timeout runs out.
      this.options.log.warn("could not release the message; it returns after its visibility timeout", {
        err: errorFields(error),
      });
    }
  }

  /** Makes the message visible again after `delayS` seconds (0: at once). */
  async release(delayS: number): Promise<void> {
    await this.stop();
    await this.changeVisibilityQuietly(delayS);
  }
}
