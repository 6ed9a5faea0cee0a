/**
 * The analysis job: download the video, decode it end to end, take thumbnails,
 * write them under this delivery's own prefix, then decide the job's outcome.
 *
 * Exactly one outcome per job, whatever the deliveries: the outcome is a claim,
 * `outcome.json`, written only if absent (If-None-Match: *). The delivery that
 * writes it first decides; result.json or error.json is then a copy of it (the
 * same bytes whoever writes it, so a copy interrupted by a crash is finished by
 * the next delivery). A delivery that loses the claim deletes its own thumbnails,
 * so what result.json references is always the described video's.
 *
 * - A job that already has an outcome is not done again (its copy is made sure of).
 * - A permanent failure (PermanentJobError) is an error outcome with its reason.
 * - Any other failure is retried (the consumer settles it with a backoff); on the
 *   last attempt, giveUp() turns it into an error outcome.
 * - Everything honours the job's AbortSignal: ffmpeg is killed, transfers stop.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  analyseVideo,
  DEFAULT_TOOLS,
  extractThumbnails,
  listKeyframes,
  type MediaTools,
  pickThumbnailTimes,
  type VideoInfo,
} from "./analysis.js";
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

/** How long removing a lost delivery's thumbnails may take (best effort). */
const CLEANUP_TIMEOUT_MS = 10_000;

export function createAnalysisHandler(options: AnalysisHandlerOptions): AnalysisHandler {
  const now = options.now ?? (() => new Date());
  const progressEveryMs = options.progressEveryMs ?? 5000;
  const tools = options.tools ?? DEFAULT_TOOLS;
  const { storage } = options;

  /** The outcome's public copy: result.json or error.json. */
  const publish = (outcome: Outcome, signal?: AbortSignal) => {
    const keys = outputKeys(outcome.jobId);
    return storage.putJson(outcome.status === "succeeded" ? keys.result : keys.error, outcome, { signal });
  };

  /** Claims the job's outcome; returns a delete, `duplicate` when another delivery decided first. */
  async function decide(outcome: Outcome, signal: AbortSignal, log: Logger): Promise<Disposition> {
    const keys = outputKeys(outcome.jobId);
    if (!(await storage.putJson(keys.outcome, outcome, { onlyIfAbsent: true, signal }))) {
      const winner = await storage.readJson<Outcome>(keys.outcome, signal);
      if (winner) await publish(winner, signal);
      log.warn("another delivery decided the job first: kept its outcome", { winner: winner?.status });
      return { kind: "delete", outcome: "duplicate" };
    }
    await publish(outcome, signal);
    return { kind: "delete", outcome: outcome.status === "succeeded" ? "succeeded" : "failed" };
  }

  function errorOutcome(
    jobId: string,
    videoKey: unknown,
    reason: FailureReason,
    message: string,
    attempt: number,
    startedAt: Date,
  ): AnalysisError {
    return {
      jobId,
      videoKey: typeof videoKey === "string" ? videoKey.slice(0, 1024) : null,
      status: "failed",
      reason,
      message: message.slice(0, 2048),
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
    const info = await analyseVideo(video, signal, tools);
    log.info("video probed", { video: info, decodeMs: Date.now() - checkStarted });

    const keyframes = options.thumbnails > 0 ? await listKeyframes(video, signal, tools) : [];
    const times = pickThumbnailTimes(keyframes, info, options.thumbnails);
    log.info("thumbnail times picked", { keyframes: keyframes.length, picked: times });
    const files = await extractThumbnails(
      video,
      dir,
      times,
      signal,
      (done, total) => log.info("thumbnail extracted", { done, total }),
      tools,
    );
    for (const [index, file] of files.entries()) {
      const key = keys.thumbnail(deliveryId, index);
      written.push(key);
      await storage.putFile(key, file, "image/jpeg", signal);
    }
    return {
      jobId: job.jobId,
      videoKey: job.videoKey,
      status: "succeeded",
      video: info,
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
      const outcome = errorOutcome(parsed.jobId, videoKey, "invalid-job", parsed.reason, context.attempt, now());
      const disposition = await decide(outcome, signal, log);
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
      await publish(existing, signal);
      jobLog.info("job already has an outcome: nothing to do", { outcome: existing.status });
      return { kind: "delete", outcome: "duplicate" };
    }

    const startedAt = now();
    const deliveryId = randomUUID().slice(0, 8);
    jobLog.info("job started", { queueWaitMs: context.queueWaitMs, delivery: deliveryId });
    const dir = await mkdtemp(join(options.scratchDir, `job-${job.jobId}-`));
    const written: string[] = [];
    let keep = false;
    try {
      const result = await analyse(job, jobContext, dir, deliveryId, written, startedAt);
      const disposition = await decide(result, signal, jobLog);
      keep = disposition.kind === "delete" && disposition.outcome === "succeeded";
      if (keep) {
        jobLog.info("job succeeded", {
          durationMs: Date.now() - startedAt.getTime(),
          thumbnails: result.thumbnails.length,
          result: keys.result,
        });
      }
      return disposition;
    } catch (error) {
      if (signal.aborted) throw error;
      if (!(error instanceof PermanentJobError)) {
        jobLog.warn("job failed: will retry", { err: errorFields(error) });
        return { kind: "retry", reason: (error as Error).message ?? String(error), cause: error };
      }
      const outcome = errorOutcome(job.jobId, job.videoKey, error.reason, error.message, context.attempt, startedAt);
      const disposition = await decide(outcome, signal, jobLog);
      if (disposition.kind === "delete" && disposition.outcome === "failed") {
        jobLog.error("job failed for good", { reason: error.reason, message: error.message, error: keys.error });
      }
      return disposition;
    } finally {
      await rm(dir, { recursive: true, force: true });
      if (!keep) await removeQuietly(written, jobLog);
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
    );
    const disposition = await decide(outcome, context.signal, context.log);
    if (disposition.kind === "delete" && disposition.outcome === "failed") {
      context.log.error("job failed for good on its last attempt", { reason, message: text });
    }
    return disposition;
  };

  return { handle, giveUp };
}
