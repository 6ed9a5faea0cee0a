/**
 * How a failed job is settled:
 * - PermanentJobError: retrying cannot help (video missing, not a video). The job
 *   gets error.json and its message is deleted.
 * - any other error is transient (throttling, network, 5xx, full disk, and also
 *   a denied call, which a fixed policy cures): the message stays, becomes visible
 *   again after a backoff, and the queue's redrive policy moves it to the
 *   dead-letter queue after maxReceiveCount receives. Nothing is lost by a retry.
 */
export class PermanentJobError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PermanentJobError";
  }
}

/** Exponential backoff with full jitter: a delay in [base*2^(attempt-1)/2, base*2^(attempt-1)], capped. */
export function backoffSeconds(attempt: number, baseS: number, maxS: number, random = Math.random): number {
  const ceiling = Math.min(maxS, baseS * 2 ** Math.max(0, attempt - 1));
  return Math.min(maxS, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}
