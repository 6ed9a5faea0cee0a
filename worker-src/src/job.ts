/** The analysis job message and the S3 keys of its outputs. */

export interface Job {
  jobId: string;
  videoKey: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type ParsedJob =
  | { ok: true; job: Job }
  /** `jobId` is set when the body names a job (so the job can get error.json) but is otherwise unusable. */
  | { ok: false; reason: string; jobId?: string };

/** A value from a message, for a reason text: JSON, at most 200 characters, marked when cut. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? "nothing";
  return text.length > 200 ? `${text.slice(0, 200)}…[cut, ${text.length} characters]` : text;
}

/**
 * `{"jobId": "<uuid>", "videoKey": "<S3 key>"}`; unknown extra fields are ignored.
 * Anything else is a reason, never an exception; reasons quote at most 200
 * characters of what the message held.
 */
export function parseJob(body: string | undefined): ParsedJob {
  if (body === undefined || body.trim() === "") return { ok: false, reason: "the message body is empty" };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: `the message body is not JSON (${(error as Error).message.slice(0, 200)})` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, reason: "the message body is not a JSON object" };
  }
  const { jobId, videoKey } = value as Record<string, unknown>;
  if (typeof jobId !== "string" || !UUID.test(jobId)) {
    return { ok: false, reason: `jobId must be a UUID string, got ${shown(jobId)}` };
  }
  const id = jobId.toLowerCase();
  if (typeof videoKey !== "string" || videoKey.length === 0 || Buffer.byteLength(videoKey) > 1024) {
    return {
      ok: false,
      jobId: id,
      reason: `videoKey must be a non-empty S3 key of at most 1024 bytes, got ${shown(videoKey)}`,
    };
  }
  return { ok: true, job: { jobId: id, videoKey } };
}

/** The jobId of a body that names one (whatever else is wrong with it), for log lines. */
export function jobIdOf(body: string | undefined): string | undefined {
  const parsed = parseJob(body);
  return parsed.ok ? parsed.job.jobId : parsed.jobId;
}

export const outputKeys = (jobId: string) => ({
  prefix: `analysis/${jobId}/`,
  /**
   * The claim: the job's one final document, written only if absent. Whichever
   * delivery writes it first decides the outcome; result.json or error.json is its copy.
   */
  outcome: `analysis/${jobId}/outcome.json`,
  result: `analysis/${jobId}/result.json`,
  error: `analysis/${jobId}/error.json`,
  /** Thumbnails of one delivery, under its own prefix, so that two deliveries never mix theirs. */
  thumbnail: (deliveryId: string, index: number) =>
    `analysis/${jobId}/${deliveryId}/keyframe-${String(index + 1).padStart(2, "0")}.jpg`,
});
