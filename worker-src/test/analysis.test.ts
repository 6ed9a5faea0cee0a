import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  analyseVideo,
  extractThumbnails,
  listKeyframes,
  pickKeyframes,
  pickThumbnailTimes,
  probeVideo,
  runProcess,
} from "../src/analysis.js";
import { PermanentJobError } from "../src/errors.js";
import { corruptFrames, cutAfter, makeStill, makeVideo } from "./helpers/videos.js";

const dir = mkdtempSync(join(tmpdir(), "cricksy-analysis-"));
// Saved without an extension, as the worker saves downloads: ffprobe must go by the content.
const file = (name: string, content: Buffer | string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const signal = () => new AbortController().signal;
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a PermanentJobError");
    },
    (error) => {
      expect(error).toBeInstanceOf(PermanentJobError);
      return error as PermanentJobError;
    },
  );

describe("pickKeyframes", () => {
  it("spreads picks over the video and never picks a keyframe twice", () => {
    expect(pickKeyframes([0, 1, 2, 3], 4, 3)).toEqual([1, 2, 3]);
    expect(pickKeyframes([0, 10, 20, 30, 40, 50], 60, 3)).toEqual([10, 30, 50]);
    expect(pickKeyframes([0], 60, 3)).toEqual([0]);
    expect(pickKeyframes([0, 0, 5], 10, 3)).toEqual([0, 5]);
    expect(pickKeyframes([], 10, 3)).toEqual([]);
  });
});

describe("pickThumbnailTimes", () => {
  it("gives exactly as many distinct frames as asked for, filling with frames between keyframes", () => {
    // One keyframe in 10 s at 25 fps: 1 keyframe + 4 evenly spaced frames.
    const times = pickThumbnailTimes([0], { durationSeconds: 10, frameCount: 250, fps: 25 }, 5);
    expect(times).toHaveLength(5);
    expect(new Set(times).size).toBe(5);
    expect(times).toContain(0);
    for (const t of times) expect(t).toBeLessThan(10);
  });

  it("takes keyframes when there are enough, and never more thumbnails than frames", () => {
    expect(pickThumbnailTimes([0, 1, 2, 3], { durationSeconds: 4, frameCount: 100, fps: 25 }, 3)).toEqual([1, 2, 3]);
    expect(pickThumbnailTimes([0], { durationSeconds: 0.12, frameCount: 3, fps: 25 }, 10)).toHaveLength(3);
    // Keyframes past the decoded end (a container index that promised more) are not used.
    expect(pickThumbnailTimes([0, 5, 50], { durationSeconds: 10, frameCount: 250, fps: 25 }, 2)).not.toContain(50);
  });
});

describe("ffprobe and ffmpeg on real files", () => {
  it("reads size, fps and codec, and the decoded duration and frame count of an MP4", async () => {
    const video = file("a", makeVideo({ seconds: 3, width: 320, height: 180, fps: 30 }));
    expect(await analyseVideo(video, signal())).toEqual({
      durationSeconds: 3,
      width: 320,
      height: 180,
      fps: 30,
      codec: "h264",
      frameCount: 90,
    });
  });

  it("counts frames of Matroska and WebM files, whose containers do not store the count", async () => {
    const mkv = file("b", makeVideo({ seconds: 2, width: 160, height: 120, fps: 25, container: "mkv" }));
    expect(await analyseVideo(mkv, signal())).toMatchObject({ frameCount: 50, fps: 25, width: 160 });
    const webm = file("b2", makeVideo({ seconds: 2, width: 192, height: 108, fps: 24, container: "webm" }));
    expect(await analyseVideo(webm, signal())).toMatchObject({ frameCount: 48, codec: "vp9", durationSeconds: 2 });
  });

  it("lists keyframes and writes one JPEG per picked time", async () => {
    const video = file("c", makeVideo({ seconds: 4, width: 320, height: 240, fps: 25, gopSeconds: 1 }));
    expect(await listKeyframes(video, signal())).toEqual([0, 1, 2, 3]);
    const out = mkdtempSync(join(dir, "thumbs-"));
    const written = await extractThumbnails(video, out, [1, 2.52], signal());
    expect(written).toEqual([join(out, "keyframe-1.jpg"), join(out, "keyframe-2.jpg")]);
    const info = await probeVideo(written[1], signal()).catch((e) => e);
    // A thumbnail is a picture: probing it as a video says so.
    expect(info).toMatchObject({ reason: "still-image" });
  });

  it("kills the process when the job is cancelled", async () => {
    const controller = new AbortController();
    const running = runProcess("sleep", ["30"], controller.signal);
    setTimeout(() => controller.abort(new Error("cancelled by test")), 100);
    await expect(running).rejects.toThrow("cancelled by test");
  });
});

describe("damaged and wrong uploads are permanent failures with a reason", () => {
  const fs720 = () => makeVideo({ seconds: 20, width: 1280, height: 720, fps: 30, faststart: true });
  const small = () => makeVideo({ seconds: 6, width: 320, height: 240, fps: 25, faststart: true });

  it.each([
    ["a faststart MP4 cut after 5 KB", () => cutAfter(fs720(), 5 * 1024)],
    ["a faststart MP4 cut at 50 %", () => cutAfter(fs720(), Math.floor(fs720().length / 2))],
    ["a small faststart MP4 cut at 80 %", () => cutAfter(small(), Math.floor(small().length * 0.8))],
    [
      "an MP4 without faststart cut at 60 % (no index)",
      () => {
        const v = makeVideo({ seconds: 5, width: 320, height: 240, fps: 25 });
        return cutAfter(v, Math.floor(v.length * 0.6));
      },
    ],
    [
      "a Matroska file cut at 60 %",
      () => {
        const v = makeVideo({ seconds: 8, width: 640, height: 360, fps: 25, container: "mkv" });
        return cutAfter(v, Math.floor(v.length * 0.6));
      },
    ],
  ])("%s: truncated", async (_name, content) => {
    const error = await failureOf(analyseVideo(file(`t-${_name.length}`, content()), signal()));
    expect(error.reason).toBe("truncated");
  });

  it.each([
    ["720p, 200 damaged spots", () => corruptFrames(fs720(), 200, 1)],
    ["320x240, 40 damaged spots, another seed", () => corruptFrames(small(), 40, 7)],
  ])("an MP4 with corrupted frames (%s): corrupt", async (name, content) => {
    const error = await failureOf(analyseVideo(file(`c-${name.length}`, content()), signal()));
    expect(error.reason).toBe("corrupt");
    expect(error.message).toMatch(/^frames do not decode: /);
  });

  it.each([
    ["a JPEG", () => makeStill(640, 480, "jpg")],
    ["a PNG", () => makeStill(300, 200, "png")],
  ])("%s uploaded as a video: still-image", async (_name, content) => {
    const error = await failureOf(analyseVideo(file(`s-${_name}`, content()), signal()));
    expect(error.reason).toBe("still-image");
  });

  it("a text file: not-a-video", async () => {
    const error = await failureOf(analyseVideo(file("notes", "minutes of the club meeting"), signal()));
    expect(error.reason).toBe("not-a-video");
    expect(error.message).toContain("ffprobe cannot read the file");
  });

  it("an audio-only file: not-a-video, no video stream", async () => {
    const audio = join(dir, "audio.m4a");
    await runProcess(
      "ffmpeg",
      ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1", audio],
      signal(),
    );
    const error = await failureOf(analyseVideo(audio, signal()));
    expect(error.reason).toBe("not-a-video");
    expect(error.message).toBe("the file has no video stream");
  });
});
