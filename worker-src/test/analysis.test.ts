import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyseVideo, decodeVideo, listFrames, pickThumbnailFrames, probeVideo, runProcess } from "../src/analysis.js";
import { PermanentJobError } from "../src/errors.js";
import {
  corruptFrames,
  cutAfter,
  damageOnce,
  H264,
  makeMedia,
  makeStill,
  makeVideo,
  testPattern,
} from "./helpers/videos.js";

const dir = mkdtempSync(join(tmpdir(), "cricksy-analysis-"));
// Saved without an extension, as the worker saves downloads: ffprobe must go by the content.
const file = (name: string, content: Buffer | string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const signal = () => new AbortController().signal;
const thumbsDir = () => mkdtempSync(join(dir, "thumbs-"));
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
/** The analysis as the job runs it: decode check and `count` thumbnails from the same pass. */
const analyse = (path: string, count = 3) =>
  analyseVideo(path, signal(), undefined, { thumbnails: { dir: thumbsDir(), count } });
const md5 = (path: string) => createHash("md5").update(readFileSync(path)).digest("hex");
/** Height of a JPEG (thumbnails are 320 px wide). */
const heightOf = (path: string) =>
  Number(execFileSync("ffprobe", ["-v", "error", "-show_entries", "stream=height", "-of", "csv=p=0", path]).toString());

describe("pickThumbnailFrames", () => {
  const frames = (count: number, fps: number, keyEvery?: number) => ({
    times: Array.from({ length: count }, (_, i) => i / fps),
    keyframes: keyEvery ? Array.from({ length: Math.ceil(count / keyEvery) }, (_, k) => k * keyEvery) : [0],
  });

  it("takes the keyframe of each slot of the video when there is one", () => {
    // 4 s at 25 fps, a keyframe every second: slots [0,1.32), [1.32,2.64), [2.64,3.96].
    expect(pickThumbnailFrames(frames(100, 25, 25), 3)).toEqual([25, 50, 75]);
  });

  it("fills slots without a keyframe with the frame nearest to their middle, never a frame twice", () => {
    // 10 s, one keyframe: the keyframe, then the middles of the other four slots.
    const picks = pickThumbnailFrames(frames(250, 25), 5);
    expect(picks).toEqual([0, 75, 125, 174, 224]);
    expect(new Set(picks).size).toBe(5);
  });

  it("gives min(count, frames) of them: every frame of a video shorter than the count", () => {
    expect(pickThumbnailFrames(frames(3, 25), 10)).toEqual([0, 1, 2]);
    expect(pickThumbnailFrames(frames(2, 25), 3)).toEqual([0, 1]);
    expect(pickThumbnailFrames(frames(5, 25), 3)).toHaveLength(3);
    expect(pickThumbnailFrames(frames(5, 25), 0)).toEqual([]);
    expect(pickThumbnailFrames({ times: [], keyframes: [] }, 3)).toEqual([]);
  });

  it("spreads frames that share one time, or have none, by their numbers", () => {
    expect(pickThumbnailFrames({ times: [0, 0, 0, 0, 0, 0], keyframes: [0] }, 3)).toEqual([0, 2, 4]);
  });

  it("takes the nearest free frame for a slot that a gap in the video leaves empty", () => {
    // Frames at 0..0.9 s and 9..9.9 s: the middle slot has none.
    const times = [
      ...Array.from({ length: 10 }, (_, i) => i / 10),
      ...Array.from({ length: 10 }, (_, i) => 9 + i / 10),
    ];
    const picks = pickThumbnailFrames({ times, keyframes: [0, 10] }, 3);
    expect(picks).toHaveLength(3);
    expect(new Set(picks).size).toBe(3);
    expect(picks).toContain(0);
    expect(picks).toContain(10);
  });
});

describe("listFrames", () => {
  it("counts frames from the stream's own start (an MPEG-TS starts at 1.4 s)", async () => {
    const ts = makeMedia("h264-start-1.4.ts", (out) => [...testPattern(2), ...H264, "-g", "25", out]);
    const list = await listFrames(ts, 0, signal());
    expect(list.times).toHaveLength(50);
    expect(list.times[0]).toBe(0);
    expect(list.times[49]).toBeCloseTo(1.96, 6);
    expect(list.keyframes).toEqual([0, 25]);
    expect(list.spanSeconds).toBeCloseTo(2, 6);
  });

  it("lists every frame of a long video (its packet list is megabytes of text, read as it comes)", async () => {
    const long = makeMedia("10-min-60fps.mp4", (out) => [...testPattern(600, 60, "64x48"), ...H264, "-g", "600", out]);
    const list = await listFrames(long, 0, signal());
    expect(list.times).toHaveLength(36_000);
    expect(list.keyframes).toHaveLength(60);
    expect(list.spanSeconds).toBeCloseTo(600, 6);
  });

  it("leaves out the frames an MP4 edit list discards (a trimmed upload)", async () => {
    const source = makeVideo({ seconds: 6, width: 320, height: 240, fps: 25, gopSeconds: 4 });
    const trimmed = makeMedia("trimmed-edit-list.mp4", (out) => [
      ...["-ss", "1.5", "-i", file("trim-source.mp4", source), "-c", "copy", "-t", "3", out],
    ]);
    const list = await listFrames(trimmed, 0, signal());
    const { video } = await analyse(trimmed);
    expect(list.times).toHaveLength(video.frameCount);
    expect(video.durationSeconds).toBeCloseTo(list.spanSeconds as number, 3);
  });
});

describe("ffprobe and ffmpeg on real files", () => {
  it("reads size, fps and codec, and the decoded duration and frame count of an MP4", async () => {
    const video = file("a", makeVideo({ seconds: 3, width: 320, height: 180, fps: 30 }));
    const analysis = await analyse(video);
    expect(analysis.video).toEqual({
      durationSeconds: 3,
      width: 320,
      height: 180,
      fps: 30,
      codec: "h264",
      frameCount: 90,
      stream: 0,
    });
    expect(analysis.thumbnails).toHaveLength(3);
    expect(analysis.thumbnails.map(heightOf)).toEqual([180, 180, 180]);
  });

  it("counts frames of Matroska and WebM files, whose containers do not store the count", async () => {
    const mkv = file("b", makeVideo({ seconds: 2, width: 160, height: 120, fps: 25, container: "mkv" }));
    expect((await analyse(mkv)).video).toMatchObject({ frameCount: 50, fps: 25, width: 160 });
    const webm = file("b2", makeVideo({ seconds: 2, width: 192, height: 108, fps: 24, container: "webm" }));
    expect((await analyse(webm)).video).toMatchObject({ frameCount: 48, codec: "vp9", durationSeconds: 2 });
  });

  it("decodes without thumbnails when none are asked for", async () => {
    const video = file("c", makeVideo({ seconds: 2, width: 320, height: 240, fps: 25 }));
    expect(await analyseVideo(video, signal())).toMatchObject({ video: { frameCount: 50 }, thumbnails: [] });
  });

  it("a thumbnail is a picture: probing it as a video says so", async () => {
    const [thumb] = (await analyse(file("d", makeVideo({ seconds: 2, width: 320, height: 240, fps: 25 })), 1))
      .thumbnails;
    expect(await probeVideo(thumb, signal()).catch((e) => e)).toMatchObject({ reason: "still-image" });
  });

  it("kills the process when the job is cancelled", async () => {
    const controller = new AbortController();
    const running = runProcess("sleep", ["30"], controller.signal);
    setTimeout(() => controller.abort(new Error("cancelled by test")), 100);
    await expect(running).rejects.toThrow("cancelled by test");
  });
});

describe("very short videos get min(thumbnails asked for, frames) thumbnails, each a different frame", () => {
  const short = (frames: number, ext: "mp4" | "webm" | "gif") =>
    makeMedia(`${frames}-frames.${ext}`, (out) => [
      ...testPattern(1, ext === "gif" ? 10 : 25, "160x120"),
      ...["-frames:v", String(frames)],
      ...(ext === "mp4" ? H264 : ext === "webm" ? ["-c:v", "libvpx-vp9", "-deadline", "realtime"] : []),
      out,
    ]);
  it.each([
    [2, "mp4"],
    [3, "mp4"],
    [5, "mp4"],
    [8, "mp4"],
    [4, "webm"],
    [3, "gif"],
  ] as const)("%i frames, %s, one keyframe", async (frames, ext) => {
    for (const count of [1, 2, 3, 5]) {
      const { video, thumbnails } = await analyse(short(frames, ext), count);
      expect(video.frameCount).toBe(frames);
      expect(thumbnails, `${count} asked for`).toHaveLength(Math.min(count, frames));
      expect(new Set(thumbnails.map(md5)).size).toBe(thumbnails.length);
    }
  });

  it("30 frames, 20 thumbnails asked for (the most WORKER_THUMBNAILS allows)", async () => {
    const video = makeMedia("30-frames.mp4", (out) => [
      ...testPattern(2, 25, "160x120"),
      "-frames:v",
      "30",
      ...H264,
      out,
    ]);
    const { thumbnails } = await analyse(video, 20);
    expect(thumbnails).toHaveLength(20);
    expect(new Set(thumbnails.map(md5)).size).toBe(20);
  });
});

describe("streams that do not start at 0 are measured from their own start", () => {
  it.each([
    ["an H.264 MPEG-TS as ffmpeg writes it (starts at 1.4 s)", "ts-default.ts", [] as string[]],
    ["an MPEG-TS with audio", "ts-audio.ts", ["-f", "lavfi", "-i", "sine=duration=6", "-c:a", "aac"]],
    ["an MPEG-TS starting at 11.4 s", "ts-offset.ts", ["-output_ts_offset", "10"]],
    ["an MP4 whose timestamps start at 30 s", "offset-30.mp4", ["-output_ts_offset", "30"]],
    ["a Matroska file whose timestamps start at 30 s", "offset-30.mkv", ["-output_ts_offset", "30"]],
  ])("%s: 6 s, 150 frames, 3 thumbnails", async (_name, name, extra) => {
    const video = makeMedia(name, (out) => [...testPattern(6), ...extra, ...H264, "-g", "50", out]);
    const { video: info, thumbnails } = await analyse(video);
    expect(info).toMatchObject({ durationSeconds: 6, frameCount: 150 });
    expect(thumbnails).toHaveLength(3);
  });
});

describe("a video stream shorter than the file is not cut short", () => {
  it.each([
    ["Matroska", "longer-audio.mkv", H264],
    ["WebM", "longer-audio.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"]],
  ])("%s whose audio runs 3 s past the video: the video's 6 s", async (_name, name, codecs) => {
    const video = makeMedia(name, (out) => [...testPattern(6), "-f", "lavfi", "-i", "sine=duration=9", ...codecs, out]);
    expect((await analyse(video)).video).toMatchObject({ durationSeconds: 6, frameCount: 150 });
  });
});

describe("files with several video streams: the main video is analysed, and named", () => {
  const still = () => file("cover.png", makeStill(160, 120, "png"));
  const video = () => file("main.mp4", makeVideo({ seconds: 4, width: 320, height: 240, fps: 25 }));

  it("a one-frame picture track before the real video: the video (stream 1)", async () => {
    const twoTracks = makeMedia("picture-then-video.mp4", (out) => [
      ...["-i", still(), "-i", video(), "-map", "0", "-map", "1:v", "-c:v:0", "mjpeg", "-c:v:1", "copy", out],
    ]);
    const analysis = await analyse(twoTracks);
    expect(analysis.video).toMatchObject({ stream: 1, frameCount: 100, width: 320 });
    expect(analysis.skipped).toEqual([{ stream: 0, reason: expect.stringMatching(/^still-image/) }]);
  });

  // A raw H.264 stream damaged, then muxed by copy (nothing checks it on the way).
  const damagedRaw = () => {
    const raw = makeMedia("good.h264", (out) => [...testPattern(6), ...H264, "-f", "h264", out]);
    return file("bad.h264", corruptFrames(readFileSync(raw), 40, 3));
  };
  const goodRaw = () => makeMedia("good.h264", (out) => [...testPattern(6), ...H264, "-f", "h264", out]);

  it("a broken second video stream does not fail the good first one (probing decodes every stream)", async () => {
    const mkv = makeMedia("second-video-broken.mkv", (out) => [
      ...["-r", "25", "-i", goodRaw(), "-r", "25", "-i", damagedRaw(), "-map", "0", "-map", "1", "-c", "copy", out],
    ]);
    expect((await analyse(mkv)).video).toMatchObject({ stream: 0, frameCount: 150 });
  });

  it("a broken first video stream and a good second one: the second, and why the first was passed over", async () => {
    const mkv = makeMedia("first-video-broken.mkv", (out) => [
      ...["-r", "25", "-i", damagedRaw(), "-r", "25", "-i", goodRaw(), "-map", "0", "-map", "1", "-c", "copy", out],
    ]);
    const analysis = await analyse(mkv);
    expect(analysis.video).toMatchObject({ stream: 1, frameCount: 150 });
    expect(analysis.skipped).toEqual([{ stream: 0, reason: expect.stringMatching(/^corrupt: frames do not decode/) }]);
  });

  it("every video stream broken: the first stream's reason", async () => {
    const mkv = makeMedia("both-broken.mkv", (out) => [
      ...["-r", "25", "-i", damagedRaw(), "-r", "25", "-i", damagedRaw(), "-map", "0", "-map", "1", "-c", "copy", out],
    ]);
    const error = await failureOf(analyse(mkv));
    expect(error.reason).toBe("corrupt");
    expect(error.message).toMatch(/\(stream 0\)$/);
  });

  it("an attached picture (cover art) listed first is never the analysed stream", async () => {
    // No ffmpeg muxer writes the cover before the tracks, but players' files do: ffprobe's answer stood in.
    const probeJson = file(
      "probe.json",
      JSON.stringify({
        streams: [
          {
            index: 0,
            codec_type: "video",
            codec_name: "mjpeg",
            width: 600,
            height: 600,
            disposition: { attached_pic: 1 },
          },
          { index: 1, codec_type: "video", codec_name: "h264", width: 320, height: 240, avg_frame_rate: "25/1" },
        ],
        format: { format_name: "mov,mp4,m4a,3gp,3g2,mj2", start_time: "0", duration: "4" },
      }),
    );
    const ffprobe = file("ffprobe-stand-in", `#!/bin/sh\ncat '${probeJson}'\n`);
    chmodSync(ffprobe, 0o755);
    const container = await probeVideo("ignored", signal(), { ffmpeg: "ffmpeg", ffprobe });
    expect(container.videoStreams.map((s) => s.index)).toEqual([1]);
    expect(container.skipped).toEqual([{ stream: 0, reason: "an attached picture (cover art)" }]);
  });
});

describe("damage the decoder finds only when asked to look", () => {
  /** ffmpeg's default decode of the file: its error lines (none: the damage is silent there). */
  const defaultDecodeErrors = (path: string) =>
    spawnSync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0", "-f", "null", "-"], {
      encoding: "utf8",
    }).stderr.trim();

  it("VP9: 16 bytes overwritten that ffmpeg's own VP9 decoder passes over; libvpx reports it: corrupt", async () => {
    const webm = file(
      "vp9-damaged",
      damageOnce(makeVideo({ seconds: 6, width: 320, height: 240, fps: 25, container: "webm" }), 1),
    );
    expect(defaultDecodeErrors(webm)).toBe("");
    const error = await failureOf(analyse(webm));
    expect(error.reason).toBe("corrupt");
    expect(error.message).toMatch(/Corrupt frame detected/);
  });

  it("H.264: a slice that decodes with bits left over (explode + aggressive error detection): corrupt", async () => {
    const mp4 = file(
      "h264-damaged",
      damageOnce(makeVideo({ seconds: 6, width: 320, height: 240, fps: 25, faststart: true }), 21),
    );
    expect(defaultDecodeErrors(mp4)).toBe("");
    expect((await failureOf(analyse(mp4))).reason).toBe("corrupt");
  });
});

describe("failures that are not the video's are retried, and the video's are never", () => {
  /** An ffmpeg stand-in that writes `stderr` (ffmpeg's log) and `progress` (its -progress totals) and exits with `code`. */
  const fakeFfmpeg = (name: string, stderr: string, code: number, progress = "") => {
    const path = file(name, `#!/bin/sh\ncat >&2 <<'LOG'\n${stderr}\nLOG\necho '${progress}'\nexit ${code}\n`);
    chmodSync(path, 0o755);
    return { ffmpeg: path, ffprobe: "ffprobe" };
  };
  const stream = { index: 0, width: 320, height: 240, fps: 25, codec: "h264", startSeconds: 0, declaredSeconds: 6 };
  const container = { startSeconds: 0, formatName: "mov,mp4,m4a,3gp,3g2,mj2" };
  const decode = (tools: { ffmpeg: string; ffprobe: string }) =>
    decodeVideo("ignored", container, stream, signal(), tools, { thumbnailFrames: [0], dir: thumbsDir() });

  it("frames that fail to decode make a short decode corrupt, not truncated", async () => {
    const tools = fakeFfmpeg(
      "ffmpeg-damaged",
      "[info] Stream mapping:\n[h264 @ 0x5555] [error] error while decoding MB 11 3",
      0,
      "frame=10\nout_time_us=400000",
    );
    expect(await decode(tools).catch((e) => e)).toMatchObject({ reason: "corrupt" });
  });

  it("a decoder's 'truncated' is one frame's damage (corrupt); the demuxer's end of file is a cut (truncated)", async () => {
    const damaged = fakeFfmpeg(
      "ffmpeg-vpx-truncated",
      "[info] Stream mapping:\n[libvpx-vp9 @ 0x5555] [error] Additional information: Truncated packet or corrupt header length",
      0,
      "frame=150\nout_time_us=6000000",
    );
    expect(await decode(damaged).catch((e) => e)).toMatchObject({ reason: "corrupt" });
    const cut = fakeFfmpeg(
      "ffmpeg-file-cut",
      "[info] Stream mapping:\n[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5555] [error] stream 0, offset 0x2c85c5: partial file",
      0,
      "frame=140\nout_time_us=5600000",
    );
    expect(await decode(cut).catch((e) => e)).toMatchObject({ reason: "truncated" });
  });

  it("a complaint about the output's timestamps is not damage", async () => {
    const tools = fakeFfmpeg(
      "ffmpeg-timestamps",
      "[info] Stream mapping:\n[null @ 0x5555] [error] Application provided invalid, non monotonically increasing dts to muxer in stream 0: 3 >= 3",
      0,
      "frame=150\nout_time_us=6000000",
    );
    expect(await decode(tools)).toMatchObject({ frames: 150, durationSeconds: 6 });
  });

  it("a disk that fills up while thumbnails are written: a transient failure (retried)", async () => {
    const tools = fakeFfmpeg(
      "ffmpeg-enospc",
      "[info] Stream mapping:\n[error] thumb-01.jpg: No space left on device",
      1,
    );
    const error = await decode(tools).catch((e) => e);
    expect(error).not.toBeInstanceOf(PermanentJobError);
    expect(error.message).toMatch(/No space left on device/);
  });

  it("thumbnails that cannot be made from frames that decode: unsupported (permanent, never retried)", async () => {
    const tools = fakeFfmpeg(
      "ffmpeg-encoder",
      "[info] Stream mapping:\n[error] Error while opening encoder for output stream #1:0 - maybe incorrect parameters",
      1,
    );
    expect(await decode(tools).catch((e) => e)).toMatchObject({
      name: "PermanentJobError",
      reason: "unsupported",
      message: expect.stringContaining("cannot write its thumbnails"),
    });
  });

  it("a codec ffmpeg has no decoder for: unsupported", async () => {
    const tools = fakeFfmpeg("ffmpeg-nodecoder", "[fatal] Decoder (codec none) not found for input stream #0:0", 1);
    expect(await decode(tools).catch((e) => e)).toMatchObject({ reason: "unsupported" });
  });

  it("errors of other streams while the file is opened (probing) are not this stream's", async () => {
    const tools = fakeFfmpeg(
      "ffmpeg-probe-noise",
      "[h264 @ 0x5555] [error] out of range intra chroma pred mode\n[info] Stream mapping:",
      0,
      "frame=150\nout_time_us=6000000",
    );
    expect(await decode(tools)).toMatchObject({ frames: 150, durationSeconds: 6 });
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
    const error = await failureOf(analyse(file(`t-${_name.length}`, content())));
    expect(error.reason).toBe("truncated");
  });

  it.each([
    ["720p, 200 damaged spots", () => corruptFrames(fs720(), 200, 1)],
    ["320x240, 40 damaged spots, another seed", () => corruptFrames(small(), 40, 7)],
  ])("an MP4 with corrupted frames (%s): corrupt", async (name, content) => {
    const error = await failureOf(analyse(file(`c-${name.length}`, content())));
    expect(error.reason).toBe("corrupt");
    expect(error.message).toMatch(/^frames do not decode: /);
  });

  it.each([
    ["a JPEG", () => makeStill(640, 480, "jpg")],
    ["a PNG", () => makeStill(300, 200, "png")],
  ])("%s uploaded as a video: still-image", async (_name, content) => {
    const error = await failureOf(analyse(file(`s-${_name}`, content())));
    expect(error.reason).toBe("still-image");
  });

  it("a text file: not-a-video", async () => {
    const error = await failureOf(analyse(file("notes", "minutes of the club meeting")));
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
    const error = await failureOf(analyse(audio));
    expect(error.reason).toBe("not-a-video");
    expect(error.message).toBe("the file has no video stream");
  });
});
