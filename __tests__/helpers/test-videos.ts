/** Real small videos, made by ffmpeg from its test source (H.264 in MP4), for jobs on an applied stack. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface VideoSpec {
  seconds: number;
  width: number;
  height: number;
  fps: number;
}

/** The bytes of a video with a moving test pattern and a keyframe every second. */
export function makeVideo(spec: VideoSpec): Buffer {
  const file = join(mkdtempSync(join(tmpdir(), "cricksy-video-")), "video.mp4");
  execFileSync(
    "ffmpeg",
    [
      ...["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"],
      ...["-i", `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}:duration=${spec.seconds}`],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", String(spec.fps)],
      file,
    ],
    { stdio: "pipe" },
  );
  return readFileSync(file);
}
