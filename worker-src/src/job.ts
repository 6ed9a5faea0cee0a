/** The analysis job message and the S3 keys of its outputs. */

export interface Job {
  jobId: string;
  videoKey: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type ParsedJob = { ok: true; job: Job } | { ok: false; reason: string };

/**
 * `{"jobId": "<uuid>", "videoKey": "<S3 key>"}`; unknown extra fields are ignored.
 * Anything else is a reason, never an exception.
 */
export function parseJob(body: string | undefined): ParsedJob {
  if (body === undefined || body.trim() === "") return { ok: false, reason: "the message body is empty" };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: `the message body is not JSON (${(error as Error).message})` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, reason: "the message body is not a JSON object" };
  }
  const { jobId, videoKey } = value as Record<string, unknown>;
  if (typeof jobId !== "string" || !UUID.test(jobId)) {
    return { ok: false, reason: `jobId must be a UUID string, got ${JSON.stringify(jobId) ?? "nothing"}` };
  }
  if (typeof videoKey !== "string" || videoKey.length === 0 || Buffer.byteLength(videoKey) > 1024) {
    return {
      ok: false,
      reason: `videoKey must be a non-empty S3 key of at most 1024 bytes, got ${JSON.stringify(videoKey) ?? "nothing"}`,
    };
  }
  return { ok: true, job: { jobId: jobId.toLowerCase(), videoKey } };
}

export const outputKeys = (jobId: string) => ({
  prefix: `analysis/${jobId}/`,
  result: `analysis/${jobId}/result.json`,
  error: `analysis/${jobId}/error.json`,
  thumbnail: (index: number) => `analysis/${jobId}/keyframe-${String(index + 1).padStart(2, "0")}.jpg`,
});
