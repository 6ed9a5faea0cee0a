/**
 * How a failed job is settled:
 * - PermanentJobError: retrying cannot help (video missing, damaged, not a video,
 *   an unusable message). The job gets error.json with its reason and its message
 *   is deleted.
 * - any other error is transient (throttling, network, 5xx, full disk, and also
 *   a denied call, which a fixed policy cures): the message is kept and shows
 *   again after a backoff. On the job's last real attempt (the queue's
 *   maxReceiveCount) the worker gives up itself: error.json with the reason of
 *   the last failure (`timed-out`, `access-denied`, `attempts-exhausted`).
 */

/** The documented set of `reason` values in error.json (docs/worker.md, "What happens to a job"). */
export const FAILURE_REASONS = {
  /** The message names a job (a UUID jobId) but no usable video key. */
  "invalid-job": "the job message has a jobId but no usable videoKey",
  /** No object at the video key. */
  "video-not-found": "the video does not exist in the bucket",
  /** Not a media file, or a media file without a video stream (audio, text, ...). */
  "not-a-video": "the upload is not a video",
  /** A picture (JPEG, PNG, ...) or a video stream of a single frame. */
  "still-image": "the upload is a still image",
  /** A video stream in which no frame decodes. */
  "no-video-frames": "the video stream has no frame that decodes",
  /** The file stops before the end its container declares (an interrupted upload). */
  truncated: "the upload is cut short",
  /** Frames that do not decode (damaged data inside the file). */
  corrupt: "the video's frames are damaged",
  /**
   * A video the worker cannot process, the same way on every attempt: ffmpeg has no
   * decoder for its codec, or the frames decode but no thumbnail can be made of them.
   */
  unsupported: "the worker cannot process this kind of video",
  /** The job's time budget ran out on its last attempt. */
  "timed-out": "the job ran past its time budget on its last attempt",
  /** S3 denied access to the video on the last attempt (an IAM policy or a bucket policy). */
  "access-denied": "access to the video was denied on the last attempt",
  /** Any other transient failure, on the last attempt. */
  "attempts-exhausted": "the job failed on every attempt the queue allows",
} as const;

export type FailureReason = keyof typeof FAILURE_REASONS;

export class PermanentJobError extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PermanentJobError";
  }
}

/** S3 (or any AWS service) refused the call for lack of permission. */
export function isAccessDenied(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "AccessDenied" || e?.Code === "AccessDenied" || e?.$metadata?.httpStatusCode === 403;
}

/** Exponential backoff with full jitter: a delay in [base*2^(attempt-1)/2, base*2^(attempt-1)], capped. */
export function backoffSeconds(attempt: number, baseS: number, maxS: number, random = Math.random): number {
  const ceiling = Math.min(maxS, baseS * 2 ** Math.max(0, attempt - 1));
  return Math.min(maxS, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}
