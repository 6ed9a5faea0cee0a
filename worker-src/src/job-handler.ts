/**
 * The analysis job: download the video, decode it end to end and take thumbnails
 * from the same decode, write them under this delivery's own prefix, then decide
 * the job's outcome.
 *
 * Exactly one outcome per job, whatever the deliveries: the outcome is a claim,
 * `outcome.json`, written only if absent (If-None-Match: *), carrying the id of the
 * delivery that wrote it. The delivery that writes it first owns the outcome;
 * result.json or error.json is then its copy (the same bytes), also written only if
 * absent, and the delivery that writes the copy counts the outcome in the metrics
 * (once per job). A delivery that finds the claim without its copy (the owner
 * crashed, was stopped, ran out of time or could not write it) writes the copy.
 *
 * Thumbnails: the owner of the outcome never deletes its thumbnails. A delivery
 * deletes its own only when nothing can reference them: it never sent the claim,
 * or it reads the claim and sees another delivery's id. When it cannot tell (the
 * claim's request failed or was cancelled without an answer), it keeps them: a
 * stray thumbnail is garbage, never a wrong reference. A lost response is
 * recognised by the delivery id: an SDK retry of a claim that did land gets 412,
 * and the claim read back is this delivery's own.
 *
 * - A permanent failure (PermanentJobError) is an error outcome with its reason.
 * - Any other failure is retried (the consumer settles it with a backoff); on the
 *   last attempt, giveUp() turns it into an error outcome (or completes the copy of
 *   an outcome already decided).
 * - Everything honours the job's AbortSignal: ffmpeg is killed, transfers stop.
 */
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { analyseVideo, DEFAULT_TOOLS, type MediaTools, type VideoInfo } from "./analysis.js";
import type { Disposition, GiveUp, JobContext, MessageHandler } from "./consumer.js";
import { FAILURE_REASONS, type FailureReason, isAccessDenied, PermanentJobError } from "./errors.js";
import { type Job, outputKeys, parseJob } from "./job.js";
import { errorFields, type Logger } from "./logger.js";
import type { VideoStorage } from "./storage.js";

export interface AnalysisResult {
  jobId: string;
  videoKey: string;
  status: "succeeded";
  video: VideoInfo;
  thumbnails: string[];
  /** The delivery that made this result; its thumbnails are under `analysis/<jobId>/<delivery>/`. */
  delivery: string;
  attempt: number;
  startedAt: string;
  finishedAt: string;
  worker: { version: string };
}

export interface AnalysisError {
  jobId: string;
  /** The message's videoKey (at most 1024 characters), or null when it had none. */
  videoKey: string | null;
  status: "failed";
  reason: FailureReason;
  message: string;
  /** The delivery that decided this outcome. */
  delivery: string;
  attempt: number;
  startedAt: string;
  failedAt: string;
  worker: { version: string };
}

export type Outcome = AnalysisResult | AnalysisError;

export interface AnalysisHandlerOptions {
  storage: VideoStorage;
  scratchDir: string;
  thumbnails: number;
  version: string;
  /** ffmpeg and ffprobe. Default: from PATH. */
  tools?: MediaTools;
  now?: () => Date;
  /** Interval of progress lines while a download runs. Default 5 s. */
  progressEveryMs?: number;
}

export interface AnalysisHandler {
  handle: MessageHandler;
  giveUp: GiveUp;
}

/** How long removing a lost delivery's thumbnails, or reading the claim to know whether to, may take. */
const CLEANUP_TIMEOUT_MS = 10_000;

/** What this delivery knows about the job's claim (outcome.json). */
type ClaimState =
  /** Not sent: nothing can reference this delivery's thumbnails. */
  | "none"
  /** Sent, answer unknown (failed or cancelled): it may have landed. */
  | "sent"
  /** This delivery's claim is the outcome. */
  | "owned"
  /** Another delivery's claim is the outcome. */
  | "lost";

const newDeliveryId = () => randomUUID().slice(0, 8);
const metricOf = (outcome: Outcome) => (outcome.status === "succeeded" ? "succeeded" : "failed");

export function createAnalysisHandler(options: AnalysisHandlerOptions): AnalysisHandler {
  const now = options.now ?? (() => new Date());
  const progressEveryMs = options.progressEveryMs ?? 5000;
  const tools = options.tools ?? DEFAULT_TOOLS;
  const { storage } = options;

  /**
   * Makes sure the outcome's public copy (result.json or error.json) exists. The copy is
   * written only if absent: whoever writes it counts the outcome in the metrics, anyone
   * else finds it there (`duplicate`).
   */
  async function completeCopy(
    outcome: Outcome,
    signal: AbortSignal,
    log: Logger,
    messages: { written: string; found: string },
  ): Promise<Disposition> {
    const keys = outputKeys(outcome.jobId);
    const key = outcome.status === "succeeded" ? keys.result : keys.error;
    // Looked for first (an S3 without conditional writes, such as fauxqs, would take every copy);
    // the conditional write settles two deliveries that both found none.
    const put = (await storage.exists(key, signal))
      ? { created: false, retried: false }
      : await storage.putJsonIfAbsent(key, outcome, signal);
    // A 412 to a request the SDK had to send again may answer our own first try: it is ours.
    if (put.created || put.retried) {
      log.info(messages.written, { outcome: outcome.status, copy: key, decidedBy: outcome.delivery });
      return { kind: "delete", outcome: metricOf(outcome) };
    }
    log.info(messages.found, {
      outcome: outcome.status,
      decidedBy: outcome.delivery,
    });
    return { kind: "delete", outcome: "duplicate" };
  }

  /**
   * Claims the job's outcome for this delivery, then writes its copy. When another
   * delivery's claim is there, that one is the outcome (its copy is made sure of).
   */
  async function decide(outcome: Outcome, signal: AbortSignal, log: Logger, claim: { state: ClaimState }) {
    const keys = outputKeys(outcome.jobId);
    claim.state = "sent";
    const put = await storage.putJsonIfAbsent(keys.outcome, outcome, signal);
    if (!put.created) {
      const current = await storage.readJson<Outcome>(keys.outcome, signal);
      if (!current) throw new Error(`S3 answered 412 to ${keys.outcome} but it cannot be read`);
      if (current.delivery !== outcome.delivery) {
        claim.state = "lost";
        log.warn("another delivery decided the job first: kept its outcome", {
          winner: current.status,
          decidedBy: current.delivery,
        });
        return completeCopy(current, signal, log, {
          written: "completed the copy of the outcome another delivery decided",
          found: "the other delivery's outcome has its copy: nothing to do",
        });
      }
      // Our claim landed; only its answer was lost (the SDK's retry got 412).
      log.info("the claim is this delivery's own (its first answer was lost)", { delivery: outcome.delivery });
    }
    claim.state = "owned";
    return completeCopy(outcome, signal, log, {
      written: "outcome decided and published",
      found: "outcome decided; its copy was already written by another delivery",
    });
  }

  function errorOutcome(
    jobId: string,
    videoKey: unknown,
    reason: FailureReason,
    message: string,
    attempt: number,
    startedAt: Date,
    delivery: string,
  ): AnalysisError {
    return {
      jobId,
      videoKey: typeof videoKey === "string" ? videoKey.slice(0, 1024) : null,
      status: "failed",
      reason,
      message: message.slice(0, 2048),
      delivery,
      attempt,
      startedAt: startedAt.toISOString(),
      failedAt: now().toISOString(),
      worker: { version: options.version },
    };
  }

  /** Best effort: a thumbnail left behind is garbage, never a wrong reference. */
  async function removeQuietly(keys: string[], log: Logger): Promise<void> {
    if (keys.length === 0) return;
    const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
    const failed = (await Promise.allSettled(keys.map((key) => storage.delete(key, signal)))).filter(
      (r) => r.status === "rejected",
    );
    if (failed.length > 0) {
      log.warn("could not remove this delivery's thumbnails", {
        keys: failed.length,
        err: errorFields((failed[0] as PromiseRejectedResult).reason),
      });
    }
  }

  /**
   * After a failure, this delivery's thumbnails go only when nothing can reference
   * them: the claim was never sent, or it is known to be another delivery's.
   */
  async function cleanUp(jobId: string, deliveryId: string, claim: ClaimState, written: string[], log: Logger) {
    if (written.length === 0 || claim === "owned") return;
    if (claim === "sent") {
      // The claim's answer never came: read it to know whose it is (not with the job's signal, maybe aborted).
      let current: Outcome | undefined;
      try {
        current = await storage.readJson<Outcome>(outputKeys(jobId).outcome, AbortSignal.timeout(CLEANUP_TIMEOUT_MS));
      } catch (error) {
        log.warn("cannot tell whether this delivery's claim landed: its thumbnails are kept", {
          err: errorFields(error),
        });
        return;
      }
      if (current?.delivery !== undefined && current.delivery !== deliveryId) {
        await removeQuietly(written, log);
      } else {
        log.info("this delivery's claim may be the outcome: its thumbnails are kept", {
          claim: current ? "this delivery's" : "not visible yet",
        });
      }
      return;
    }
    await removeQuietly(written, log);
  }

  async function analyse(
    job: Job,
    context: JobContext,
    dir: string,
    deliveryId: string,
    written: string[],
    startedAt: Date,
  ): Promise<AnalysisResult> {
    const { signal, log } = context;
    const keys = outputKeys(job.jobId);
    const video = join(dir, "video");
    const downloadStarted = Date.now();
    let lastReport = downloadStarted;
    const bytes = await storage.download(job.videoKey, video, signal, ({ bytes, totalBytes }) => {
      if (Date.now() - lastReport < progressEveryMs) return;
      lastReport = Date.now();
      log.info("downloading video", {
        bytes,
        totalBytes,
        percent: totalBytes ? Math.floor((bytes / totalBytes) * 100) : undefined,
      });
    });
    log.info("video downloaded", { bytes, durationMs: Date.now() - downloadStarted });

    const checkStarted = Date.now();
    let lastDecodeReport = checkStarted;
    const thumbsDir = join(dir, "thumbnails");
    await mkdir(thumbsDir);
    const analysis = await analyseVideo(video, signal, tools, {
      thumbnails: { dir: thumbsDir, count: options.thumbnails },
      onProgress: (decodedSeconds, declaredSeconds) => {
        if (Date.now() - lastDecodeReport < progressEveryMs) return;
        lastDecodeReport = Date.now();
        log.info("decoding video", {
          decodedSeconds,
          declaredSeconds,
          percent: declaredSeconds ? Math.min(100, Math.floor((decodedSeconds / declaredSeconds) * 100)) : undefined,
        });
      },
    });
    log.info("video analysed", {
      video: analysis.video,
      ...(analysis.skipped.length > 0 ? { skippedStreams: analysis.skipped } : {}),
      thumbnails: analysis.thumbnails.length,
      decodeMs: Date.now() - checkStarted,
    });

    for (const [index, file] of analysis.thumbnails.entries()) {
      const key = keys.thumbnail(deliveryId, index);
      written.push(key);
      await storage.putFile(key, file, "image/jpeg", signal);
      log.info("thumbnail uploaded", { done: index + 1, total: analysis.thumbnails.length, key });
    }
    return {
      jobId: job.jobId,
      videoKey: job.videoKey,
      status: "succeeded",
      video: analysis.video,
      thumbnails: [...written],
      delivery: deliveryId,
      attempt: context.attempt,
      startedAt: startedAt.toISOString(),
      finishedAt: now().toISOString(),
      worker: { version: options.version },
    };
  }

  const handle: MessageHandler = async (message, context) => {
    const { log, signal } = context;
    const parsed = parseJob(message.Body);
    if (!parsed.ok) {
      if (parsed.jobId === undefined) {
        log.error("job message rejected", { reason: parsed.reason });
        return { kind: "reject", reason: parsed.reason };
      }
      // It names a job: that job ends, with a reason its owner can read.
      const videoKey = (JSON.parse(message.Body as string) as { videoKey?: unknown }).videoKey;
      const delivery = newDeliveryId();
      const outcome = errorOutcome(
        parsed.jobId,
        videoKey,
        "invalid-job",
        parsed.reason,
        context.attempt,
        now(),
        delivery,
      );
      const disposition = await decide(outcome, signal, log, { state: "none" });
      log.error("job failed for good", {
        reason: "invalid-job",
        message: parsed.reason,
        decided: disposition.kind === "delete" ? disposition.outcome : disposition.kind,
      });
      return disposition;
    }
    const { job } = parsed;
    const keys = outputKeys(job.jobId);
    const jobLog = log.child({ videoKey: job.videoKey });
    const jobContext = { ...context, log: jobLog };

    const existing = await storage.readJson<Outcome>(keys.outcome, signal);
    if (existing) {
      return completeCopy(existing, signal, jobLog, {
        written: "the job was decided but its copy was missing: completed it (the deciding delivery did not)",
        found: "job already has an outcome: nothing to do",
      });
    }

    const startedAt = now();
    const deliveryId = newDeliveryId();
    jobLog.info("job started", { queueWaitMs: context.queueWaitMs, delivery: deliveryId });
    const dir = await mkdtemp(join(options.scratchDir, `job-${job.jobId}-`));
    const written: string[] = [];
    const claim: { state: ClaimState } = { state: "none" };
    try {
      const result = await analyse(job, jobContext, dir, deliveryId, written, startedAt);
      const disposition = await decide(result, signal, jobLog, claim);
      if (claim.state === "owned") {
        jobLog.info("job succeeded", {
          durationMs: Date.now() - startedAt.getTime(),
          thumbnails: result.thumbnails.length,
          result: keys.result,
          counted: disposition.kind === "delete" && disposition.outcome === "succeeded",
        });
      }
      return disposition;
    } catch (error) {
      if (signal.aborted) throw error;
      if (!(error instanceof PermanentJobError)) {
        jobLog.warn(
          claim.state === "owned"
            ? "job decided, but its copy could not be written: will retry to complete it"
            : "job failed: will retry",
          { err: errorFields(error) },
        );
        return { kind: "retry", reason: (error as Error).message ?? String(error), cause: error };
      }
      const outcome = errorOutcome(
        job.jobId,
        job.videoKey,
        error.reason,
        error.message,
        context.attempt,
        startedAt,
        deliveryId,
      );
      const failureClaim: { state: ClaimState } = { state: "none" };
      const disposition = await decide(outcome, signal, jobLog, failureClaim);
      if (failureClaim.state === "owned") {
        jobLog.error("job failed for good", { reason: error.reason, message: error.message, error: keys.error });
      }
      return disposition;
    } finally {
      await rm(dir, { recursive: true, force: true });
      await cleanUp(job.jobId, deliveryId, claim.state, written, jobLog);
    }
  };

  const giveUp: GiveUp = async (message, context, failure) => {
    const parsed = parseJob(message.Body);
    const jobId = parsed.ok ? parsed.job.jobId : parsed.jobId;
    if (jobId === undefined) return undefined;
    const reason: FailureReason =
      failure.kind === "timeout" ? "timed-out" : isAccessDenied(failure.cause) ? "access-denied" : "attempts-exhausted";
    const text = `${FAILURE_REASONS[reason]} (attempt ${context.attempt} of ${context.maxAttempts}): ${failure.reason}`;
    const outcome = errorOutcome(
      jobId,
      parsed.ok ? parsed.job.videoKey : undefined,
      reason,
      text,
      context.attempt,
      now(),
      newDeliveryId(),
    );
    const claim: { state: ClaimState } = { state: "none" };
    const disposition = await decide(outcome, context.signal, context.log, claim);
    if (claim.state === "owned") {
      context.log.error("job failed for good on its last attempt", { reason, message: text });
    }
    return disposition;
  };

  return { handle, giveUp };
}
