import { describe, expect, it } from "vitest";
import { jobIdOf, outputKeys, parseJob } from "../src/job.js";

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

  it("keeps the jobId of a body that names a job but has no usable videoKey (it gets error.json)", () => {
    expect(parseJob(JSON.stringify({ jobId: jobId.toUpperCase(), videoKey: 42 }))).toEqual({
      ok: false,
      jobId,
      reason: "videoKey must be a non-empty S3 key of at most 1024 bytes, got 42",
    });
    expect(jobIdOf(JSON.stringify({ jobId, videoKey: "" }))).toBe(jobId);
    expect(jobIdOf(JSON.stringify({ jobId: "nope" }))).toBeUndefined();
    expect(jobIdOf("not json")).toBeUndefined();
  });

  it("quotes at most 200 characters of a message's value in a reason", () => {
    const parsed = parseJob(JSON.stringify({ jobId, videoKey: "k".repeat(256 * 1024) }));
    const reason = parsed.ok ? "" : parsed.reason;
    expect(reason.length).toBeLessThan(400);
    expect(reason).toContain("…[cut, 262146 characters]");
  });

  it("puts every output under analysis/<jobId>/, thumbnails under the delivery's own prefix", () => {
    const keys = outputKeys(jobId);
    expect(keys.outcome).toBe(`analysis/${jobId}/outcome.json`);
    expect(keys.result).toBe(`analysis/${jobId}/result.json`);
    expect(keys.error).toBe(`analysis/${jobId}/error.json`);
    expect(keys.thumbnail("d1", 0)).toBe(`analysis/${jobId}/d1/keyframe-01.jpg`);
    expect(keys.thumbnail("d2", 11)).toBe(`analysis/${jobId}/d2/keyframe-12.jpg`);
  });
});
