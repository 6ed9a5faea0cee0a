/** Real small videos, made by ffmpeg from its test source, cached per test run. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Shared by test files and runs; each file is written whole (temp file, then rename).
const dir = join(tmpdir(), "cricksy-test-videos");

export interface VideoSpec {
  seconds: number;
  width: number;
  height: number;
  fps: number;
  /** Seconds between keyframes. */
  gopSeconds?: number;
  container?: "mp4" | "mkv" | "webm";
  /** MP4 with its index (moov) first, as browsers and phones upload for streaming. */
  faststart?: boolean;
}

/** An H.264 video with a moving test pattern; returns its bytes. */
export function makeVideo(spec: VideoSpec): Buffer {
  mkdirSync(dir, { recursive: true });
  const ext = spec.container ?? "mp4";
  const name = `${spec.seconds}s-${spec.width}x${spec.height}-${spec.fps}fps-${spec.gopSeconds ?? 1}${spec.faststart ? "-fs" : ""}`;
  const file = join(dir, `${name}.${ext}`);
  if (!existsSync(file)) {
    execFileSync(
      "ffmpeg",
      [
        ...["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"],
        ...["-i", `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}:duration=${spec.seconds}`],
        ...(ext === "webm"
          ? ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"]
          : ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]),
        ...["-g", String(Math.round(spec.fps * (spec.gopSeconds ?? 1)))],
        ...(spec.faststart ? ["-movflags", "+faststart"] : []),
        `${file}.${process.pid}.${ext}`,
      ],
      { stdio: "pipe" },
    );
    renameSync(`${file}.${process.pid}.${ext}`, file);
  }
  return readFileSync(file);
}

/** A JPEG picture (what a user may upload by mistake). */
export function makeStill(width: number, height: number, format: "jpg" | "png" = "jpg"): Buffer {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `still-${width}x${height}.${format}`);
  if (!existsSync(file)) {
    execFileSync(
      "ffmpeg",
      [
        ...["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"],
        ...["-i", `testsrc2=size=${width}x${height}:duration=1`, "-frames:v", "1"],
        `${file}.${process.pid}.${format}`,
      ],
      { stdio: "pipe" },
    );
    renameSync(`${file}.${process.pid}.${format}`, file);
  }
  return readFileSync(file);
}

/** The first `bytes` bytes (an upload that stopped). */
export const cutAfter = (video: Buffer, bytes: number) => Buffer.from(video.subarray(0, bytes));

/** A seeded sequence of numbers in [0, 1) (xorshift32): the same damage on every run. */
function xorshift32(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/**
 * Damaged frames: `spots` runs of 64 random bytes written over the media data
 * (past the first quarter, where an MP4's index is not), from a seeded sequence.
 */
export function corruptFrames(video: Buffer, spots = 200, seed = 1): Buffer {
  const out = Buffer.from(video);
  const random = xorshift32(seed);
  for (let i = 0; i < spots; i++) {
    const at = Math.floor(out.length / 4 + random() * (out.length * 0.75 - 64));
    for (let k = 0; k < 64; k++) out[at + k] = Math.floor(random() * 256);
  }
  return out;
}

/**
 * A media file made by ffmpeg, cached under `name` (written whole: temp file, then rename);
 * returns its path. `args` receives the output path and returns ffmpeg's arguments.
 */
export function makeMedia(name: string, args: (out: string) => string[]): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  if (!existsSync(file)) {
    const dot = name.lastIndexOf(".");
    const temp = `${file}.${process.pid}${dot >= 0 ? name.slice(dot) : ""}`;
    execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args(temp)], { stdio: "pipe" });
    renameSync(temp, file);
  }
  return file;
}

/** ffmpeg's moving test pattern, for `seconds` at `fps` (lavfi input arguments). */
export const testPattern = (seconds: number, fps = 25, size = "320x240") => [
  ...["-f", "lavfi", "-i", `testsrc2=size=${size}:rate=${fps}:duration=${seconds}`],
];
export const H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"];

/**
 * `bytes` random bytes written over one place in the second two thirds of the file
 * (seeded xorshift32: the same damage on every run).
 */
export function damageOnce(video: Buffer, seed: number, bytes = 16): Buffer {
  const out = Buffer.from(video);
  const random = xorshift32(seed);
  const at = Math.floor(out.length * (0.3 + random() * 0.6));
  for (let i = 0; i < bytes; i++) out[at + i] = Math.floor(random() * 256);
  return out;
}
