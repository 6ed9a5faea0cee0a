/**
 * Video analysis with ffprobe and ffmpeg: what the container says (ffprobe), what
 * actually decodes (one ffmpeg pass over every frame of the first video stream),
 * and thumbnails spread over the decoded video. Every process is bound to an
 * AbortSignal: when the job is cancelled, the process is killed (SIGKILL).
 *
 * A damaged upload is a PermanentJobError with one of the documented reasons
 * (FailureReason): the reported duration and frame count are always what decoded,
 * never the container's header.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PermanentJobError } from "./errors.js";

export interface VideoInfo {
  /** Decoded duration: end time of the last decoded frame. */
  durationSeconds: number;
  width: number;
  height: number;
  fps: number;
  codec: string;
  /** Frames decoded, end to end. */
  frameCount: number;
}

/** The programs the analysis runs; WORKER_FFMPEG / WORKER_FFPROBE choose others (tests use stand-ins). */
export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
}
export const DEFAULT_TOOLS: MediaTools = { ffmpeg: "ffmpeg", ffprobe: "ffprobe" };

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
      // Bounded: ffmpeg's progress lines of a long video, or a stand-in gone wild, must not fill the memory.
      stdout = (stdout + chunk).slice(-256 * 1024);
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
    duration?: string;
  }[];
  format?: { duration?: string; format_name?: string };
}

const lines = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

/** An error line without ffmpeg's `[h264 @ 0x55…]` context prefix, at most 300 characters. */
const cleanLine = (line: string) => line.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, "").slice(0, 300);

/** What ffmpeg and ffprobe say when the file stops before its container's end. */
const TRUNCATION = /partial file|File ended prematurely|moov atom not found|stream ends prematurely|truncat/i;

/** Containers that hold one picture, not a video: image2 (JPEG, PNG, ... files) and the *_pipe image demuxers. */
const isImageFormat = (format: string | undefined) =>
  format !== undefined && (format === "image2" || format.split(",").every((f) => f.endsWith("_pipe")));

/** What the container declares about its first video stream (nothing decoded yet). */
export interface ContainerInfo {
  width: number;
  height: number;
  fps: number;
  codec: string;
  /** The container's duration (stream, else format), seconds; undefined when it has none. */
  declaredDurationSeconds?: number;
  formatName?: string;
}

/** Reads the container; a file that is no video container is a PermanentJobError. */
export async function probeVideo(file: string, signal: AbortSignal, tools = DEFAULT_TOOLS): Promise<ContainerInfo> {
  const result = await runProcess(
    tools.ffprobe,
    ["-v", "error", "-select_streams", "v:0", "-show_streams", "-show_format", "-of", "json", file],
    signal,
  );
  if (result.code !== 0) {
    const last = lines(result.stderr).map(cleanLine).at(-1) ?? `exit ${result.code}`;
    // An MP4 whose index (moov) is missing: the upload stopped before its end.
    if (TRUNCATION.test(result.stderr)) throw new PermanentJobError("truncated", `the file is cut short: ${last}`);
    throw new PermanentJobError("not-a-video", `ffprobe cannot read the file: ${last}`);
  }
  let probe: ProbeOutput;
  try {
    probe = JSON.parse(result.stdout) as ProbeOutput;
  } catch {
    throw new Error(`ffprobe wrote no JSON: ${result.stdout.slice(0, 200)}`);
  }
  const stream = probe.streams?.find((s) => s.codec_type === "video");
  if (!stream?.width || !stream.height) {
    throw new PermanentJobError("not-a-video", "the file has no video stream");
  }
  const formatName = probe.format?.format_name;
  if (isImageFormat(formatName)) {
    throw new PermanentJobError(
      "still-image",
      `the file is a picture (${stream.codec_name ?? formatName}), not a video`,
    );
  }
  const declared = Number(stream.duration ?? probe.format?.duration);
  return {
    width: stream.width,
    height: stream.height,
    fps: Math.round((parseRate(stream.avg_frame_rate) || parseRate(stream.r_frame_rate)) * 1000) / 1000,
    codec: stream.codec_name ?? "unknown",
    declaredDurationSeconds: Number.isFinite(declared) && declared > 0 ? declared : undefined,
    formatName,
  };
}

export interface DecodeResult {
  frames: number;
  durationSeconds: number;
}

/**
 * Decodes every frame of the first video stream (`-f null`, nothing written):
 * the only way to know that the whole upload is there and sound. Costs about
 * what a playback at full speed costs the CPU (see the benchmark in docs/worker.md).
 *
 * - a truncation message, or a decoded duration clearly shorter than the container's: `truncated`;
 * - any other decoder error: `corrupt`;
 * - no frame: `no-video-frames`; a single frame: `still-image`.
 */
export async function decodeVideo(
  file: string,
  declaredDurationSeconds: number | undefined,
  signal: AbortSignal,
  tools = DEFAULT_TOOLS,
): Promise<DecodeResult> {
  const result = await runProcess(
    tools.ffmpeg,
    [
      ...["-hide_banner", "-nostdin", "-nostats", "-v", "error", "-i", file],
      ...["-map", "0:v:0", "-f", "null", "-progress", "pipe:1", "-"],
    ],
    signal,
  );
  // -progress writes key=value blocks; the last block holds the totals.
  let frames = 0;
  let outTimeUs = 0;
  for (const line of lines(result.stdout)) {
    const [key, value] = line.split("=");
    if (key === "frame") frames = Number(value) || 0;
    if (key === "out_time_us") outTimeUs = Math.max(0, Number(value) || 0);
  }
  const durationSeconds = Math.round(outTimeUs / 1000) / 1000;
  const errors = lines(result.stderr).map(cleanLine);
  const described = (what: string) => `${what} (${frames} frames, ${durationSeconds} s decoded)`;

  if (TRUNCATION.test(result.stderr)) {
    throw new PermanentJobError(
      "truncated",
      described(`the file is cut short: ${errors.find((l) => TRUNCATION.test(l))}`),
    );
  }
  // Tolerance: the container's duration may end a frame or two after the last video frame
  // (audio, edit lists); 1 s plus 2 % is far above that and far below a cut upload.
  if (declaredDurationSeconds !== undefined && durationSeconds < declaredDurationSeconds * 0.98 - 1) {
    throw new PermanentJobError(
      "truncated",
      described(`the container declares ${declaredDurationSeconds} s but the video stops early`),
    );
  }
  if (errors.length > 0 || result.code !== 0) {
    throw new PermanentJobError(
      "corrupt",
      described(`frames do not decode: ${errors[0] ?? `ffmpeg exit ${result.code}`}`),
    );
  }
  if (frames === 0) throw new PermanentJobError("no-video-frames", "the video stream has no frame that decodes");
  if (frames === 1) throw new PermanentJobError("still-image", "the video stream holds a single picture");
  return { frames, durationSeconds };
}

/** The container, checked by a full decode: duration and frame count are the decoded ones. */
export async function analyseVideo(file: string, signal: AbortSignal, tools = DEFAULT_TOOLS): Promise<VideoInfo> {
  const container = await probeVideo(file, signal, tools);
  const decoded = await decodeVideo(file, container.declaredDurationSeconds, signal, tools);
  return {
    durationSeconds: decoded.durationSeconds,
    width: container.width,
    height: container.height,
    fps: container.fps,
    codec: container.codec,
    frameCount: decoded.frames,
  };
}

/** Timestamps (s) of the video's keyframes, from the packets' key flags (demuxing only, no decoding). */
export async function listKeyframes(file: string, signal: AbortSignal, tools = DEFAULT_TOOLS): Promise<number[]> {
  const result = await runProcess(
    tools.ffprobe,
    ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", file],
    signal,
  );
  if (result.code !== 0) throw new Error(`ffprobe cannot list keyframes: ${lines(result.stderr).at(-1)}`);
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
 * Exactly min(count, frameCount) thumbnail times within the decoded video:
 * keyframes first (cheap to seek to, usually the sharpest), and where the video
 * has fewer keyframes than asked for, evenly spaced frames at least one frame
 * apart from the picks. Never fewer than asked for from a video that has the frames.
 */
export function pickThumbnailTimes(
  keyframes: number[],
  video: Pick<VideoInfo, "durationSeconds" | "frameCount" | "fps">,
  count: number,
): number[] {
  const wanted = Math.min(count, video.frameCount);
  const frame = video.fps > 0 ? 1 / video.fps : video.durationSeconds / Math.max(1, video.frameCount);
  const inside = keyframes.filter((t) => t >= 0 && t < video.durationSeconds);
  const picked = pickKeyframes(inside, video.durationSeconds, wanted);
  // Fill from ever finer grids of targets until there are enough distinct frames.
  for (let parts = wanted; picked.length < wanted && parts <= video.frameCount * 2; parts *= 2) {
    for (let i = 0; i < parts && picked.length < wanted; i++) {
      const target = Math.round(((video.durationSeconds * (i + 0.5)) / parts) * 1000) / 1000;
      if (picked.every((t) => Math.abs(t - target) >= frame * 0.999)) picked.push(target);
    }
  }
  return picked.sort((a, b) => a - b);
}

/**
 * One JPEG, 320 px wide, per time (seeking to a keyframe lands on it exactly;
 * other times are decoded up to from the keyframe before). Returns the files
 * written, in order; a missing one is an error, never a shorter list.
 */
export async function extractThumbnails(
  file: string,
  outDir: string,
  times: number[],
  signal: AbortSignal,
  onProgress: (done: number, total: number) => void = () => {},
  tools = DEFAULT_TOOLS,
): Promise<string[]> {
  const written: string[] = [];
  for (const [index, time] of times.entries()) {
    const out = join(outDir, `keyframe-${index + 1}.jpg`);
    const result = await runProcess(
      tools.ffmpeg,
      [
        ...["-hide_banner", "-loglevel", "error", "-nostdin", "-y"],
        ...["-ss", String(time), "-i", file],
        ...["-frames:v", "1", "-vf", "scale=320:-2", "-q:v", "4", out],
      ],
      signal,
    );
    if (result.code !== 0 || !existsSync(out)) {
      throw new Error(
        `ffmpeg made no thumbnail at ${time}s: ${lines(result.stderr).map(cleanLine).at(-1) ?? `exit ${result.code}`}`,
      );
    }
    written.push(out);
    onProgress(index + 1, times.length);
  }
  return written;
}
