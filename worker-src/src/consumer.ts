/**
 * The consumer loop: long-polls the queue and keeps up to `concurrency` jobs in
 * flight, receiving again as soon as a slot frees up (not batch by batch). A
 * receive returns at most 10 messages, so ceil(concurrency / 10) pollers run,
 * each reserving the free slots it asks for. Each message gets a Lease
 * (heartbeats), an AbortSignal and a time budget; the handler's disposition says
 * how the message is settled.
 *
 * Attempts: a job's real attempt is the attempts spent before it was last given
 * back at shutdown (the `attemptsAttribute` of the message) plus SQS's receive
 * count. On the last one the queue allows (its redrive policy's maxReceiveCount)
 * a failure is final: the handler's giveUp() writes the job's error outcome, and
 * what has no job (or cannot get one) is moved to the dead-letter queue, as the
 * redrive policy would have done.
 */
import {
  type Message,
  type MessageSystemAttributeName,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { WORKER_CONTRACT } from "./contract.js";
import { backoffSeconds } from "./errors.js";
import { Lease } from "./lease.js";
import { errorFields, type Fields, type Logger } from "./logger.js";
import type { JobOutcome } from "./metrics.js";

export type Disposition =
  /** Done (succeeded, failed for good, or done before): delete the message. */
  | { kind: "delete"; outcome: "succeeded" | "failed" | "duplicate" }
  /** Transient failure: keep the message; it shows again after a backoff. */
  | { kind: "retry"; reason: string; cause?: unknown }
  /** The message itself is bad and names no job: keep it for the dead-letter queue, after a backoff. */
  | { kind: "reject"; reason: string };

export interface JobContext {
  /** Aborted on timeout, shutdown past the grace period, or a lost message. */
  signal: AbortSignal;
  /** The real attempt: 1 on the first; attempts given back at shutdown do not count. */
  attempt: number;
  /** The attempts the queue allows (maxReceiveCount); undefined without a redrive policy. */
  maxAttempts?: number;
  /** Time from sending to this receive, when SQS says when it was sent. */
  queueWaitMs?: number;
  log: Logger;
}

export type MessageHandler = (message: Message, context: JobContext) => Promise<Disposition>;

/** Why a job's last attempt failed, for giveUp(). */
export interface LastFailure {
  kind: "retry" | "reject" | "timeout" | "error";
  reason: string;
  /** The error, when there was one (a timeout's is a JobTimeoutError). */
  cause?: unknown;
}

/**
 * Ends a job whose last attempt failed: writes its final outcome and returns a
 * delete, or undefined when it cannot (the message has no job, or the write
 * failed): the consumer then moves the message to the dead-letter queue.
 */
export type GiveUp = (message: Message, context: JobContext, failure: LastFailure) => Promise<Disposition | undefined>;

export interface SettledJob {
  outcome: JobOutcome;
  jobId?: string;
  attempt: number;
  durationMs: number;
  queueWaitMs?: number;
}

/** What the worker knows of the queue's redrive policy (read at start). */
export interface RedriveSettings {
  /** maxReceiveCount: the attempts a job gets. */
  maxAttempts: number;
  /** Where the redrive policy moves messages. */
  deadLetterQueueUrl: string;
}

export interface ConsumerOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: MessageHandler;
  /** Called on a failed last attempt; without it such a message goes to the dead-letter queue. */
  giveUp?: GiveUp;
  /** Fields that every log line about a message carries (its jobId). */
  describe?: (message: Message) => Fields;
  /** The queue's redrive policy; without it attempts are unlimited (as SQS would do). */
  redrive?: RedriveSettings;
  log: Logger;
  concurrency: number;
  visibilityTimeoutS: number;
  /** Long-poll wait, seconds (20 in production). */
  waitTimeS: number;
  jobTimeoutS: number;
  retryBaseS: number;
  retryMaxS: number;
  /** Called after every receive with the number of messages it returned (task protection). */
  onReceive?: (messages: number) => void;
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
/** How long giveUp() may take to write a job's final outcome. */
const GIVE_UP_TIMEOUT_MS = 30_000;

/** Attempts spent before the last requeue, from the message attribute (0 when absent or malformed). */
export function attemptsBefore(message: Message): number {
  const raw = message.MessageAttributes?.[WORKER_CONTRACT.queue.attemptsAttribute]?.StringValue;
  return raw !== undefined && /^\d{1,6}$/.test(raw) ? Number(raw) : 0;
}

export class Consumer {
  private readonly inFlight = new Map<string, InFlight>();
  /** Aborted by stop(): ends backoff sleeps (never an open receive, see stop()). */
  private readonly stopController = new AbortController();
  private stopping = false;
  /** Slots that an open receive may fill. */
  private reserved = 0;
  private readonly slotWaiters = new Set<() => void>();
  private readonly drainWaiters = new Set<() => void>();
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
      // Another poller, resumed first, may have reserved the slot this one waited for.
      if (room < 1) continue;
      this.reserved += room;
      let messages: Message[];
      try {
        const out = await this.options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: room,
            WaitTimeSeconds: this.options.waitTimeS,
            VisibilityTimeout: this.options.visibilityTimeoutS,
            MessageSystemAttributeNames: [
              "ApproximateReceiveCount",
              "SentTimestamp",
              "MessageGroupId" as MessageSystemAttributeName,
            ],
            // All of them: a requeue or a move to the dead-letter queue copies them.
            MessageAttributeNames: ["All"],
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
      if (!this.stopping) this.options.onReceive?.(messages.length);
      if (messages.length === 0) {
        if (this.stopping) log.info("receive open at shutdown returned", { messages: 0 });
        continue;
      }
      if (!this.stopping && this.inFlight.size === 0) await this.options.onBusy?.();
      // Shutdown began while this receive was open (or while protection was being set):
      // these messages are no attempt; they go back with their attempts intact.
      if (this.stopping) {
        log.info("receive open at shutdown returned", { messages: messages.length });
        await this.requeueUntouched(messages);
        break;
      }
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

  private lease(message: Message, log: Logger, onLost: () => void): Lease {
    return new Lease({
      sqs: this.options.sqs,
      queueUrl: this.options.queueUrl,
      receiptHandle: message.ReceiptHandle as string,
      message,
      visibilityTimeoutS: this.options.visibilityTimeoutS,
      receivedAt: this.now(),
      log,
      onLost,
      now: this.now,
    });
  }

  private attemptOf(message: Message): number {
    return attemptsBefore(message) + Number(message.Attributes?.ApproximateReceiveCount ?? 1);
  }

  /** Messages that a receive open at shutdown returned: requeued with the attempts they had. */
  private async requeueUntouched(messages: Message[]): Promise<void> {
    await Promise.all(
      messages.map((message) => {
        const log = this.options.log.child({ messageId: message.MessageId, ...this.options.describe?.(message) });
        return this.lease(message, log, () => {}).requeue(this.attemptOf(message) - 1);
      }),
    );
    this.options.log.info("messages received during shutdown requeued untouched", { messages: messages.length });
  }

  private start(message: Message): void {
    const id = message.MessageId ?? message.ReceiptHandle ?? String(this.now());
    const controller = new AbortController();
    const entry: InFlight = { controller, done: Promise.resolve() };
    this.inFlight.set(id, entry);
    entry.done = this.process(message, controller).finally(() => {
      this.inFlight.delete(id);
      this.wakeSlotWaiters();
      if (this.inFlight.size === 0) {
        if (!this.stopping) this.options.onIdle?.();
        for (const wake of [...this.drainWaiters]) wake();
      }
    });
  }

  private async process(message: Message, controller: AbortController): Promise<void> {
    const { options } = this;
    const startedAt = this.now();
    const attempt = this.attemptOf(message);
    const maxAttempts = options.redrive?.maxAttempts;
    const lastAttempt = maxAttempts !== undefined && attempt >= maxAttempts;
    const sentAt = Number(message.Attributes?.SentTimestamp);
    const queueWaitMs = Number.isFinite(sentAt) && sentAt > 0 ? Math.max(0, startedAt - sentAt) : undefined;
    const described = options.describe?.(message) ?? {};
    const jobId = typeof described.jobId === "string" ? described.jobId : undefined;
    const log = options.log.child({ messageId: message.MessageId, ...described, attempt });

    const lease = this.lease(message, log, () =>
      controller.abort(new MessageLostError("the message is no longer held by this worker")),
    );
    lease.start();
    const budget = setTimeout(
      () => controller.abort(new JobTimeoutError(`the job ran past its budget of ${options.jobTimeoutS} s`)),
      options.jobTimeoutS * 1000,
    );

    const context: JobContext = { signal: controller.signal, attempt, maxAttempts, queueWaitMs, log };
    let disposition: Disposition | undefined;
    let failure: unknown;
    try {
      // Cancelling does not wait for a handler that ignores its signal: the job is settled at once.
      disposition = await Promise.race([
        options.handler(message, context),
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

    const settled = (outcome: SettledJob["outcome"]) =>
      options.onSettled?.({ outcome, jobId, attempt, durationMs: this.now() - startedAt, queueWaitMs });

    if (disposition?.kind === "delete") {
      await lease.delete();
      return settled(disposition.outcome);
    }

    const reason = controller.signal.aborted ? controller.signal.reason : failure;
    if (!disposition && reason instanceof MessageLostError) {
      await lease.stop();
      log.warn("job abandoned: the message was lost");
      return settled("lost");
    }
    if (!disposition && reason instanceof ShutdownError) {
      // This attempt was interrupted, not spent: the copy carries the attempts before it.
      const requeued = await lease.requeue(attempt - 1);
      log.info(
        requeued
          ? "job cancelled by shutdown and requeued with its attempts intact"
          : "job cancelled by shutdown and released",
        { attemptsSoFar: attempt - 1 },
      );
      return settled("released");
    }

    const last: LastFailure = disposition
      ? {
          kind: disposition.kind,
          reason: disposition.reason,
          cause: "cause" in disposition ? disposition.cause : undefined,
        }
      : reason instanceof JobTimeoutError
        ? { kind: "timeout", reason: reason.message, cause: reason }
        : { kind: "error", reason: (reason as Error)?.message ?? String(reason), cause: reason };

    if (lastAttempt) return settled(await this.finishLastAttempt(message, lease, context, last));

    const delayS = backoffSeconds(attempt, options.retryBaseS, options.retryMaxS);
    await lease.release(delayS);
    if (last.kind === "reject") {
      log.info("message rejected: shows again after a backoff, the dead-letter queue takes it after its last attempt", {
        reason: last.reason,
        visibleAgainInS: delayS,
        maxAttempts,
      });
      return settled("rejected");
    }
    if (last.kind === "timeout") {
      log.error("job timed out: cancelled, will retry", { jobTimeoutS: options.jobTimeoutS, visibleAgainInS: delayS });
    } else if (last.kind === "error") {
      log.error("job handler failed; will retry", { err: errorFields(last.cause), visibleAgainInS: delayS });
    } else {
      log.info("job will be retried", { reason: last.reason, visibleAgainInS: delayS });
    }
    return settled("retried");
  }

  /**
   * The last real attempt failed: the job ends here. giveUp() writes its error
   * outcome; a message without a job (or whose outcome could not be written)
   * goes to the dead-letter queue, as the redrive policy would have moved it.
   */
  private async finishLastAttempt(
    message: Message,
    lease: Lease,
    context: JobContext,
    last: LastFailure,
  ): Promise<JobOutcome> {
    const { options } = this;
    const { log } = context;
    let disposition: Disposition | undefined;
    if (options.giveUp) {
      try {
        disposition = await options.giveUp(
          message,
          { ...context, signal: AbortSignal.timeout(GIVE_UP_TIMEOUT_MS) },
          last,
        );
      } catch (error) {
        log.error("could not write the job's final outcome", { err: errorFields(error) });
      }
    }
    if (disposition?.kind === "delete") {
      await lease.delete();
      return disposition.outcome;
    }
    const named = typeof options.describe?.(message).jobId === "string";
    const dlq = options.redrive?.deadLetterQueueUrl as string;
    const delayS = backoffSeconds(context.attempt, options.retryBaseS, options.retryMaxS);
    if (await lease.moveTo(dlq, last.reason, delayS)) {
      log.error("last attempt failed: message moved to the dead-letter queue", {
        reason: last.reason,
        attempts: context.attempt,
        deadLetterQueueUrl: dlq,
      });
    }
    return named ? "failed" : "rejected";
  }

  /** Resolves once no job is in flight. */
  private drained(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.drainWaiters.delete(wake);
        resolve();
      };
      this.drainWaiters.add(wake);
    });
  }

  /**
   * Stops receiving at once (no receive is sent after this), lets jobs in flight
   * finish for up to `graceS` seconds counted from now, then cancels the rest and
   * requeues them with their attempts intact.
   *
   * A receive already open is not aborted: SQS may have handed it messages that
   * an aborted request never reads, and they would stay invisible for the
   * visibility timeout. It is let run out (at most the long-poll wait), and what
   * it returns is requeued untouched. The grace period does not wait for it: a
   * cancelled job's copy that this receive picks up is requeued once more, at no
   * cost in attempts.
   */
  stop(graceS: number): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      this.stopController.abort(new ShutdownError("stopping"));
      this.wakeSlotWaiters();
      const { log } = this.options;
      log.info("shutting down: receiving stopped", { jobsInFlight: this.inFlight.size, graceS });
      const timer = setTimeout(() => {
        if (this.inFlight.size === 0) return;
        log.warn("grace period over: cancelling jobs still in flight", { jobsInFlight: this.inFlight.size, graceS });
        for (const job of this.inFlight.values()) job.controller.abort(new ShutdownError("shutdown grace period over"));
      }, graceS * 1000);
      await Promise.all([this.loop, this.drained()]);
      clearTimeout(timer);
      log.info("shut down: every job settled");
    })();
    return this.stopped;
  }
}
