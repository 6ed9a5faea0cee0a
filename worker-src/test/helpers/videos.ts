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
  container?: "mp4" | "mkv";
}

/** An H.264 video with a moving test pattern; returns its bytes. */
export function makeVideo(spec: VideoSpec): Buffer {
  mkdirSync(dir, { recursive: true });
  const ext = spec.container ?? "mp4";
  const file = join(dir, `${spec.seconds}s-${spec.width}x${spec.height}-${spec.fps}fps-${spec.gopSeconds ?? 1}.${ext}`);
  if (!existsSync(file)) {
    execFileSync(
      "ffmpeg",
      [
        ...["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"],
        ...["-i", `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}:duration=${spec.seconds}`],
        ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
        ...["-g", String(Math.round(spec.fps * (spec.gopSeconds ?? 1)))],
        `${file}.${process.pid}.${ext}`,
      ],
      { stdio: "pipe" },
    );
    renameSync(`${file}.${process.pid}.${ext}`, file);
  }
  return readFileSync(file);
}
