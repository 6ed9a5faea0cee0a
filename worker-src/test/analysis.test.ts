import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { extractKeyframes, listKeyframes, pickKeyframes, probeVideo, runProcess } from "../src/analysis.js";
import { PermanentJobError } from "../src/errors.js";
import { makeVideo } from "./helpers/videos.js";

const dir = mkdtempSync(join(tmpdir(), "cricksy-analysis-"));
const file = (name: string, content: Buffer | string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const signal = () => new AbortController().signal;

describe("pickKeyframes", () => {
  it("spreads picks over the video and never picks a keyframe twice", () => {
    expect(pickKeyframes([0, 1, 2, 3], 4, 3)).toEqual([1, 2, 3]);
    expect(pickKeyframes([0, 10, 20, 30, 40, 50], 60, 3)).toEqual([10, 30, 50]);
    expect(pickKeyframes([0], 60, 3)).toEqual([0]);
    expect(pickKeyframes([0, 0, 5], 10, 3)).toEqual([0, 5]);
    expect(pickKeyframes([], 10, 3)).toEqual([]);
  });
});

describe("ffprobe and ffmpeg on real files", () => {
  it("reads duration, size, fps, codec and frame count of an MP4", async () => {
    const video = file("a.mp4", makeVideo({ seconds: 3, width: 320, height: 180, fps: 30 }));
    expect(await probeVideo(video, signal())).toEqual({
      durationSeconds: 3,
      width: 320,
      height: 180,
      fps: 30,
      codec: "h264",
      frameCount: 90,
    });
  });

  it("counts frames of a Matroska file, whose container does not store the count", async () => {
    const video = file("b.mkv", makeVideo({ seconds: 2, width: 160, height: 120, fps: 25, container: "mkv" }));
    expect(await probeVideo(video, signal())).toMatchObject({ frameCount: 50, fps: 25, width: 160 });
  });

  it("lists keyframes and writes one JPEG per picked keyframe", async () => {
    const video = file("c.mp4", makeVideo({ seconds: 4, width: 320, height: 240, fps: 25, gopSeconds: 1 }));
    expect(await listKeyframes(video, signal())).toEqual([0, 1, 2, 3]);
    const out = mkdtempSync(join(dir, "thumbs-"));
    const written = await extractKeyframes(video, out, [1, 3], signal());
    expect(written).toEqual([join(out, "keyframe-1.jpg"), join(out, "keyframe-2.jpg")]);
    const info = await probeVideo(written[0], signal());
    expect(info).toMatchObject({ width: 320, height: 240, codec: "mjpeg" });
  });

  it("says a text file is not a video, for good", async () => {
    const error = await probeVideo(file("notes.mp4", "this is not a video"), signal()).catch((e) => e);
    expect(error).toBeInstanceOf(PermanentJobError);
    expect(error.reason).toBe("not-a-video");
    expect(error.message).toContain("ffprobe cannot read the file");
  });

  it("says an audio-only file has no video stream", async () => {
    const audio = join(dir, "audio.m4a");
    await runProcess(
      "ffmpeg",
      ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1", audio],
      signal(),
    );
    const error = await probeVideo(audio, signal()).catch((e) => e);
    expect(error).toBeInstanceOf(PermanentJobError);
    expect(error.message).toBe("the file has no video stream");
  });

  it("kills the process when the job is cancelled", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const running = runProcess("sleep", ["30"], controller.signal);
    setTimeout(() => controller.abort(new Error("cancelled by test")), 100);
    await expect(running).rejects.toThrow("cancelled by test");
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
