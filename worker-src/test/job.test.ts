import { describe, expect, it } from "vitest";
import { outputKeys, parseJob } from "../src/job.js";

const jobId = "3f8c1a52-6d0e-4b7a-9c2f-1e5d7b9a0c34";

describe("parseJob", () => {
  it("takes jobId and videoKey and ignores extra fields", () => {
    expect(parseJob(JSON.stringify({ jobId, videoKey: "uploads/a.mp4", extra: { x: 1 } }))).toEqual({
      ok: true,
      job: { jobId, videoKey: "uploads/a.mp4" },
    });
  });

  it.each([
    [undefined, "the message body is empty"],
    ["", "the message body is empty"],
    ["{not json", "the message body is not JSON"],
    ["[1,2]", "not a JSON object"],
    [JSON.stringify({ videoKey: "a.mp4" }), "jobId must be a UUID string, got nothing"],
    [JSON.stringify({ jobId: "../../etc", videoKey: "a.mp4" }), 'jobId must be a UUID string, got "../../etc"'],
    [JSON.stringify({ jobId }), "videoKey must be a non-empty S3 key"],
    [JSON.stringify({ jobId, videoKey: "" }), "videoKey must be a non-empty S3 key"],
    [JSON.stringify({ jobId, videoKey: "x".repeat(1025) }), "at most 1024 bytes"],
  ])("rejects %j with a reason", (body, reason) => {
    const parsed = parseJob(body);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.reason).toContain(reason);
  });

  it("puts every output under analysis/<jobId>/", () => {
    const keys = outputKeys(jobId);
    expect(keys.result).toBe(`analysis/${jobId}/result.json`);
    expect(keys.error).toBe(`analysis/${jobId}/error.json`);
    expect(keys.thumbnail(0)).toBe(`analysis/${jobId}/keyframe-01.jpg`);
    expect(keys.thumbnail(11)).toBe(`analysis/${jobId}/keyframe-12.jpg`);
  });
});
