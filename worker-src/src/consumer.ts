/**
 * The consumer loop: long-polls the queue and keeps up to `concurrency` jobs in
 * flight, receiving again as soon as a slot frees up (not batch by batch). A
 * receive returns at most 10 messages, so ceil(concurrency / 10) pollers run,
 * each reserving the free slots it asks for. Each message gets a Lease
 * (heartbeats), an AbortSignal and a time budget; the handler's disposition says
 * how the message is settled.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { backoffSeconds } from "./errors.js";
import { Lease } from "./lease.js";
import { errorFields, type Logger } from "./logger.js";
import type { JobOutcome } from "./metrics.js";

export type Disposition =
  /** Done (succeeded, failed for good, or done before): delete the message. */
  | { kind: "delete"; outcome: "succeeded" | "failed" | "duplicate"; jobId?: string }
  /** Transient failure: keep the message; it shows again after a backoff. */
  | { kind: "retry"; reason: string; jobId?: string }
  /** The message itself is bad: keep it for the redrive policy, after a backoff (never a hot loop). */
  | { kind: "reject"; reason: string };

export interface JobContext {
  /** Aborted on timeout, shutdown past the grace period, or a lost message. */
  signal: AbortSignal;
  /** The SQS receive count: 1 on the first delivery. */
  attempt: number;
  /** Time from sending to this receive, when SQS says when it was sent. */
  queueWaitMs?: number;
  log: Logger;
}

export type MessageHandler = (message: Message, context: JobContext) => Promise<Disposition>;

export interface SettledJob {
  outcome: JobOutcome;
  jobId?: string;
  attempt: number;
  durationMs: number;
  queueWaitMs?: number;
}

export interface ConsumerOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: MessageHandler;
  log: Logger;
  concurrency: number;
  visibilityTimeoutS: number;
  /** Long-poll wait, seconds (20 in production). */
  waitTimeS: number;
  jobTimeoutS: number;
  retryBaseS: number;
  retryMaxS: number;
  /** Awaited before the first job of an idle worker starts (task protection on). */
  onBusy?: () => Promise<void>;
  /** Called when the last job in flight has been settled (task protection off). */
  onIdle?: () => void;
  /** Called while the loop is alive: after every receive, and every few seconds while all slots are busy. */
  onAlive?: () => void;
  /** Called once per settled message (metrics). */
  onSettled?: (job: SettledJob) => void;
  now?: () => number;
}

/** Why a job's signal was aborted. */
export class JobTimeoutError extends Error {
  override name = "JobTimeoutError";
}
export class ShutdownError extends Error {
  override name = "ShutdownError";
}
export class MessageLostError extends Error {
  override name = "MessageLostError";
}

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
}

const ALIVE_INTERVAL_MS = 5000;

export class Consumer {
  private readonly inFlight = new Map<string, InFlight>();
  /** Aborted by stop(): ends backoff sleeps (never an open receive, see stop()). */
  private readonly stopController = new AbortController();
  private stopping = false;
  /** Slots that an open receive may fill. */
  private reserved = 0;
  private readonly slotWaiters = new Set<() => void>();
  private loop?: Promise<void>;
  private stopped?: Promise<void>;
  private readonly now: () => number;

  constructor(private readonly options: ConsumerOptions) {
    this.now = options.now ?? Date.now;
  }

  get jobsInFlight(): number {
    return this.inFlight.size;
  }

  /** Runs until stop(); resolves when every job has been settled. */
  run(): Promise<void> {
    const pollers = Math.ceil(this.options.concurrency / 10);
    this.loop ??= Promise.all(Array.from({ length: pollers }, () => this.receiveLoop())).then(() => {});
    return this.loop.then(() => this.stopped);
  }

  private async receiveLoop(): Promise<void> {
    const { log } = this.options;
    let receiveErrors = 0;
    while (!this.stopping) {
      await this.freeSlot();
      if (this.stopping) break;
      const room = Math.min(10, this.options.concurrency - this.inFlight.size - this.reserved);
      this.reserved += room;
      let messages: Message[];
      try {
        const out = await this.options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: room,
            WaitTimeSeconds: this.options.waitTimeS,
            VisibilityTimeout: this.options.visibilityTimeoutS,
            MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
          }),
        );
        messages = out.Messages ?? [];
        receiveErrors = 0;
      } catch (error) {
        this.reserved -= room;
        if (this.stopping) break;
        receiveErrors++;
        const delayS = backoffSeconds(receiveErrors, 1, 30);
        log.error("receive failed; backing off", { err: errorFields(error), delayS });
        await this.sleep(delayS * 1000);
        continue;
      }
      this.reserved -= room;
      this.options.onAlive?.();
      if (this.stopping) {
        await this.releaseAtOnce(messages);
        break;
      }
      if (messages.length === 0) continue;
      if (this.inFlight.size === 0) await this.options.onBusy?.();
      for (const message of messages) this.start(message);
    }
  }

  /** Resolves when a slot is free (neither busy nor reserved) or the consumer stops; reports liveness while it waits. */
  private async freeSlot(): Promise<void> {
    while (!this.stopping && this.inFlight.size + this.reserved >= this.options.concurrency) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.slotWaiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ALIVE_INTERVAL_MS);
        this.slotWaiters.add(wake);
      });
      this.options.onAlive?.();
    }
  }

  private wakeSlotWaiters(): void {
    for (const wake of [...this.slotWaiters]) wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.stopController.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Hands messages back untouched (visibility 0), for the receive that was open when stop() came. */
  private async releaseAtOnce(messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.options.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      );
      this.options.log.info("messages received during shutdown released untouched", { messages: messages.length });
    } catch (error) {
      this.options.log.warn("could not release messages received during shutdown", { err: errorFields(error) });
    }
  }

  private start(message: Message): void {
    const id = message.MessageId ?? message.ReceiptHandle ?? String(this.now());
    const controller = new AbortController();
    const entry: InFlight = { controller, done: Promise.resolve() };
    this.inFlight.set(id, entry);
    entry.done = this.process(message, controller).finally(() => {
      this.inFlight.delete(id);
      this.wakeSlotWaiters();
      if (this.inFlight.size === 0) this.options.onIdle?.();
    });
  }

  private async process(message: Message, controller: AbortController): Promise<void> {
    const { options } = this;
    const startedAt = this.now();
    const attempt = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    const sentAt = Number(message.Attributes?.SentTimestamp);
    const queueWaitMs = Number.isFinite(sentAt) && sentAt > 0 ? Math.max(0, startedAt - sentAt) : undefined;
    const log = options.log.child({ messageId: message.MessageId, attempt });

    const lease = new Lease({
      sqs: options.sqs,
      queueUrl: options.queueUrl,
      receiptHandle: message.ReceiptHandle as string,
      visibilityTimeoutS: options.visibilityTimeoutS,
      receivedAt: startedAt,
      log,
      onLost: () => controller.abort(new MessageLostError("the message is no longer held by this worker")),
      now: this.now,
    });
    lease.start();
    const budget = setTimeout(
      () => controller.abort(new JobTimeoutError(`the job ran past its budget of ${options.jobTimeoutS} s`)),
      options.jobTimeoutS * 1000,
    );

    let disposition: Disposition | undefined;
    let failure: unknown;
    try {
      // Cancelling does not wait for a handler that ignores its signal: the job is settled at once.
      disposition = await Promise.race([
        options.handler(message, { signal: controller.signal, attempt, queueWaitMs, log }),
        new Promise<never>((_, reject) => {
          if (controller.signal.aborted) reject(controller.signal.reason);
          controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
        }),
      ]);
    } catch (error) {
      failure = error;
    } finally {
      clearTimeout(budget);
    }

    const retryDelayS = () => backoffSeconds(attempt, options.retryBaseS, options.retryMaxS);
    const settled = (outcome: SettledJob["outcome"], jobId?: string) =>
      options.onSettled?.({ outcome, jobId, attempt, durationMs: this.now() - startedAt, queueWaitMs });

    if (disposition?.kind === "delete") {
      await lease.delete();
      return settled(disposition.outcome, disposition.jobId);
    }
    if (disposition) {
      const delayS = retryDelayS();
      await lease.release(delayS);
      log.info(disposition.kind === "retry" ? "job will be retried" : "message left to the redrive policy", {
        reason: disposition.reason,
        visibleAgainInS: delayS,
      });
      return settled(
        disposition.kind === "retry" ? "retried" : "rejected",
        "jobId" in disposition ? disposition.jobId : undefined,
      );
    }

    const reason = controller.signal.aborted ? controller.signal.reason : failure;
    if (reason instanceof MessageLostError) {
      await lease.stop();
      log.warn("job abandoned: the message was lost");
      return settled("lost");
    }
    if (reason instanceof ShutdownError) {
      await lease.release(0);
      log.info("job cancelled by shutdown and released for another worker");
      return settled("released");
    }
    const delayS = retryDelayS();
    await lease.release(delayS);
    if (reason instanceof JobTimeoutError) {
      log.error("job timed out: cancelled and released", { jobTimeoutS: options.jobTimeoutS, visibleAgainInS: delayS });
    } else {
      log.error("job handler failed; will retry", { err: errorFields(reason), visibleAgainInS: delayS });
    }
    return settled("retried");
  }

  /**
   * Stops receiving at once (no receive is sent after this), lets jobs in flight
   * finish for up to `graceS` seconds, then cancels the rest and releases their
   * messages (visibility 0) for other workers.
   *
   * A receive already open is not aborted: SQS may have handed it messages that
   * an aborted request never reads, and they would stay invisible for the
   * visibility timeout. It is let run out (at most the long-poll wait) and
   * whatever it returns is released untouched. Jobs are cancelled only after it
   * returned, so that their released messages cannot fall into it.
   */
  stop(graceS: number): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      this.stopController.abort(new ShutdownError("stopping"));
      this.wakeSlotWaiters();
      const { log } = this.options;
      log.info("shutting down: receiving stopped", { jobsInFlight: this.inFlight.size, graceS });
      const all = () => Promise.all([...this.inFlight.values()].map((j) => j.done));
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceS * 1000);
      });
      await Promise.all([this.loop, Promise.race([all(), grace])]);
      clearTimeout(timer);
      if (this.inFlight.size > 0) {
        log.warn("grace period over: cancelling jobs still in flight", { jobsInFlight: this.inFlight.size });
        for (const job of this.inFlight.values()) job.controller.abort(new ShutdownError("shutdown grace period over"));
        await all();
      }
      log.info("shut down: every job settled");
    })();
    return this.stopped;
  }
}
