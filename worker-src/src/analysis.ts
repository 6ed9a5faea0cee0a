/**
 * Video analysis with ffprobe and ffmpeg: metadata of the first video stream and
 * keyframe thumbnails spread over the video. Every process is bound to an
 * AbortSignal: when the job is cancelled, the process is killed (SIGKILL).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PermanentJobError } from "./errors.js";

export interface VideoInfo {
  durationSeconds: number;
  width: number;
  height: number;
  fps: number;
  codec: string;
  frameCount: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program; a cancel kills it and rejects with the signal's reason. */
export function runProcess(command: string, args: string[], signal: AbortSignal): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], signal, killSignal: "SIGKILL" });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < 64 * 1024) stderr += chunk;
    });
    child.on("error", (error) => reject(signal.aborted ? signal.reason : error));
    child.on("close", (code) => {
      if (signal.aborted) return reject(signal.reason);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [num, den] = rate.split("/").map(Number);
  if (!den) return Number.isFinite(num) ? num : 0;
  return num / den;
}

interface ProbeOutput {
  streams?: {
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    nb_frames?: string;
    nb_read_packets?: string;
    duration?: string;
  }[];
  format?: { duration?: string };
}

const lastLine = (text: string) =>
  text
    .trim()
    .split("\n")
    .filter((l) => l.trim())
    .at(-1) ?? "";

/** Reads the first video stream; a file that is not a video is a PermanentJobError. */
export async function probeVideo(file: string, signal: AbortSignal, ffprobe = "ffprobe"): Promise<VideoInfo> {
  const result = await runProcess(
    ffprobe,
    ["-v", "error", "-count_packets", "-select_streams", "v:0", "-show_streams", "-show_format", "-of", "json", file],
    signal,
  );
  if (result.code !== 0) {
    throw new PermanentJobError(
      "not-a-video",
      `ffprobe cannot read the file: ${lastLine(result.stderr) || `exit ${result.code}`}`,
    );
  }
  const probe = JSON.parse(result.stdout) as ProbeOutput;
  const stream = probe.streams?.find((s) => s.codec_type === "video");
  if (!stream?.width || !stream.height) {
    throw new PermanentJobError("not-a-video", "the file has no video stream");
  }
  const durationSeconds = Number(probe.format?.duration ?? stream.duration ?? 0);
  const fps = parseRate(stream.avg_frame_rate) || parseRate(stream.r_frame_rate);
  // nb_frames comes from the container (MP4 has it, Matroska often not); counted packets otherwise.
  const frameCount = Number(stream.nb_frames ?? stream.nb_read_packets ?? 0) || Math.round(durationSeconds * fps);
  return {
    durationSeconds: Math.round(durationSeconds * 1000) / 1000,
    width: stream.width,
    height: stream.height,
    fps: Math.round(fps * 1000) / 1000,
    codec: stream.codec_name ?? "unknown",
    frameCount,
  };
}

/** Timestamps (s) of the video's keyframes, from the packets' key flags (demuxing only, no decoding). */
export async function listKeyframes(file: string, signal: AbortSignal, ffprobe = "ffprobe"): Promise<number[]> {
  const result = await runProcess(
    ffprobe,
    ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", file],
    signal,
  );
  if (result.code !== 0) throw new Error(`ffprobe cannot list keyframes: ${lastLine(result.stderr)}`);
  return result.stdout
    .split("\n")
    .map((line) => line.split(","))
    .filter(([time, flags]) => flags?.includes("K") && time !== "N/A" && time !== "")
    .map(([time]) => Number(time))
    .filter((time) => Number.isFinite(time))
    .sort((a, b) => a - b);
}

/**
 * Up to `count` distinct keyframes spread over the video: for each of `count`
 * evenly spaced targets, the nearest keyframe not taken yet.
 */
export function pickKeyframes(keyframes: number[], durationSeconds: number, count: number): number[] {
  const left = [...new Set(keyframes)];
  const picked: number[] = [];
  for (let i = 0; i < count && left.length > 0; i++) {
    const target = (durationSeconds * (i + 0.5)) / count;
    let best = 0;
    for (let k = 1; k < left.length; k++) {
      if (Math.abs(left[k] - target) < Math.abs(left[best] - target)) best = k;
    }
    picked.push(left[best]);
    left.splice(best, 1);
  }
  return picked.sort((a, b) => a - b);
}

/**
 * One JPEG, 320 px wide, per keyframe time (seeking to a keyframe lands on it
 * exactly). Returns the files written, in order.
 */
export async function extractKeyframes(
  file: string,
  outDir: string,
  times: number[],
  signal: AbortSignal,
  onProgress: (done: number, total: number) => void = () => {},
  ffmpeg = "ffmpeg",
): Promise<string[]> {
  const written: string[] = [];
  for (const [index, time] of times.entries()) {
    const out = join(outDir, `keyframe-${index + 1}.jpg`);
    const result = await runProcess(
      ffmpeg,
      [
        ...["-hide_banner", "-loglevel", "error", "-nostdin", "-y"],
        ...["-ss", String(time), "-i", file],
        ...["-frames:v", "1", "-vf", "scale=320:-2", "-q:v", "4", out],
      ],
      signal,
    );
    if (result.code !== 0 || !existsSync(out)) {
      throw new Error(`ffmpeg made no keyframe at ${time}s: ${lastLine(result.stderr) || `exit ${result.code}`}`);
    }
    written.push(out);
    onProgress(index + 1, times.length);
  }
  return written;
}
