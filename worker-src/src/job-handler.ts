/**
 * The analysis job: download the video, read its metadata, take keyframe
 * thumbnails, write the thumbnails and then result.json to S3.
 *
 * - Idempotent: a job that already has result.json is not done again, and the
 *   result is written only if absent, so a second delivery never changes it.
 * - A video that is missing or not a video gets error.json and is deleted.
 * - Any other failure is retried (the consumer settles it with a backoff).
 * - Everything honours the job's AbortSignal: ffmpeg is killed, transfers stop.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { extractKeyframes, listKeyframes, pickKeyframes, probeVideo, type VideoInfo } from "./analysis.js";
import type { Disposition, JobContext } from "./consumer.js";
import { PermanentJobError } from "./errors.js";
import { type Job, outputKeys, parseJob } from "./job.js";
import { errorFields } from "./logger.js";
import type { VideoStorage } from "./storage.js";

export interface AnalysisResult {
  jobId: string;
  videoKey: string;
  status: "succeeded";
  video: VideoInfo;
  thumbnails: string[];
  attempt: number;
  startedAt: string;
  finishedAt: string;
  worker: { version: string };
}

export interface AnalysisError {
  jobId: string;
  videoKey: string;
  status: "failed";
  reason: string;
  message: string;
  attempt: number;
  startedAt: string;
  failedAt: string;
  worker: { version: string };
}

export interface AnalysisHandlerOptions {
  storage: VideoStorage;
  scratchDir: string;
  thumbnails: number;
  version: string;
  now?: () => Date;
  /** Interval of progress lines while a download runs. Default 5 s. */
  progressEveryMs?: number;
}

export function createAnalysisHandler(options: AnalysisHandlerOptions) {
  const now = options.now ?? (() => new Date());
  const progressEveryMs = options.progressEveryMs ?? 5000;
  const { storage } = options;

  async function analyse(job: Job, context: JobContext, dir: string, startedAt: Date): Promise<AnalysisResult> {
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

    const info = await probeVideo(video, signal);
    log.info("video probed", { video: info });

    const keyframes = options.thumbnails > 0 ? await listKeyframes(video, signal) : [];
    const times = pickKeyframes(keyframes, info.durationSeconds, options.thumbnails);
    log.info("keyframes found", { keyframes: keyframes.length, picked: times });
    const files = await extractKeyframes(video, dir, times, signal, (done, total) =>
      log.info("keyframe extracted", { done, total }),
    );
    const thumbnails: string[] = [];
    for (const [index, file] of files.entries()) {
      await storage.putFile(keys.thumbnail(index), file, "image/jpeg", signal);
      thumbnails.push(keys.thumbnail(index));
    }
    return {
      jobId: job.jobId,
      videoKey: job.videoKey,
      status: "succeeded",
      video: info,
      thumbnails,
      attempt: context.attempt,
      startedAt: startedAt.toISOString(),
      finishedAt: now().toISOString(),
      worker: { version: options.version },
    };
  }

  return async function handle(message: { Body?: string }, context: JobContext): Promise<Disposition> {
    const parsed = parseJob(message.Body);
    if (!parsed.ok) {
      context.log.error("job message rejected", { reason: parsed.reason });
      return { kind: "reject", reason: parsed.reason };
    }
    const { job } = parsed;
    const keys = outputKeys(job.jobId);
    const log = context.log.child({ jobId: job.jobId, videoKey: job.videoKey });
    const jobContext = { ...context, log };

    if (await storage.exists(keys.result, context.signal)) {
      log.info("job already has a result: nothing to do");
      return { kind: "delete", outcome: "duplicate", jobId: job.jobId };
    }

    const startedAt = now();
    log.info("job started", { queueWaitMs: context.queueWaitMs });
    const dir = await mkdtemp(join(options.scratchDir, `job-${job.jobId}-`));
    try {
      const result = await analyse(job, jobContext, dir, startedAt);
      if (!(await storage.putJson(keys.result, result, { onlyIfAbsent: true, signal: context.signal }))) {
        log.warn("another delivery wrote the result first: kept it");
        return { kind: "delete", outcome: "duplicate", jobId: job.jobId };
      }
      log.info("job succeeded", {
        durationMs: Date.now() - startedAt.getTime(),
        thumbnails: result.thumbnails.length,
        result: keys.result,
      });
      return { kind: "delete", outcome: "succeeded", jobId: job.jobId };
    } catch (error) {
      if (context.signal.aborted) throw error;
      if (!(error instanceof PermanentJobError)) {
        log.warn("job failed: will retry", { err: errorFields(error) });
        return { kind: "retry", reason: (error as Error).message ?? String(error), jobId: job.jobId };
      }
      const failure: AnalysisError = {
        jobId: job.jobId,
        videoKey: job.videoKey,
        status: "failed",
        reason: error.reason,
        message: error.message,
        attempt: context.attempt,
        startedAt: startedAt.toISOString(),
        failedAt: now().toISOString(),
        worker: { version: options.version },
      };
      // A result from an earlier delivery wins over a later failure.
      if (!(await storage.exists(keys.result, context.signal))) await storage.putJson(keys.error, failure);
      log.error("job failed for good", { reason: error.reason, message: error.message, error: keys.error });
      return { kind: "delete", outcome: "failed", jobId: job.jobId };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
