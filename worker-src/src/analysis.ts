/**
 * Video analysis with ffprobe and ffmpeg. Three steps, every process bound to an
 * AbortSignal (a cancelled job kills it with SIGKILL):
 *
 * 1. ffprobe reads the container: its streams, and which of them is the main video
 *    (attached pictures such as cover art are never it).
 * 2. ffprobe lists the main video's packets (demuxing only, no decoding): how many
 *    frames the container holds, where its keyframes are, and their times, relative
 *    to the stream's own start (an MPEG-TS starts at 1.4 s, a trimmed MKV at 30 s).
 *    The thumbnails are picked there, as frame numbers.
 * 3. One ffmpeg pass decodes every frame of that stream: the decode check (the only
 *    way to know that the whole upload is there and sound) and, from the same
 *    decoded frames, the thumbnails (a `select` of the picked frame numbers). No
 *    seeking, so a container whose seeking is approximate (MPEG-TS) or a video of a
 *    few frames gets its thumbnails all the same.
 *
 * A damaged upload is a PermanentJobError with one of the documented reasons; the
 * reported duration and frame count are what decoded, measured from the video
 * stream's own start. When a file has several video streams and the first fails,
 * the next is tried (a one-frame track before the real video); the result names
 * the stream it describes.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PermanentJobError } from "./errors.js";

export interface VideoInfo {
  /** Decoded duration, seconds: from the stream's first frame to the end of its last decoded one. */
  durationSeconds: number;
  width: number;
  height: number;
  fps: number;
  codec: string;
  /** Frames decoded, end to end. */
  frameCount: number;
  /** The analysed stream's index in the file (ffprobe's numbering). */
  stream: number;
}

export interface VideoAnalysis {
  video: VideoInfo;
  /** JPEG files, in order of time; min(thumbnails asked for, frameCount) of them. */
  thumbnails: string[];
  /** Video streams passed over, and why (cover art, a stream that failed before the analysed one). */
  skipped: { stream: number; reason: string }[];
}

/** The programs the analysis runs; WORKER_FFMPEG / WORKER_FFPROBE choose others (tests use stand-ins). */
export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
}
export const DEFAULT_TOOLS: MediaTools = { ffmpeg: "ffmpeg", ffprobe: "ffprobe" };

export interface RunResult {
  /** Exit code; -1 when the process was killed by a signal (the OOM killer). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Every chunk of stdout as it comes (progress). */
  onStdout?: (chunk: string) => void;
  /** Which stderr lines to keep (all by default); at most 64 KB of them are kept. */
  keepStderrLine?: (line: string) => boolean;
}

/** Runs a program; a cancel kills it and rejects with the signal's reason. */
export function runProcess(
  command: string,
  args: string[],
  signal: AbortSignal,
  options: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], signal, killSignal: "SIGKILL" });
    let stdout = "";
    let stderr = "";
    let partial = "";
    const keep = (line: string) => {
      if (stderr.length < 64 * 1024 && (options.keepStderrLine?.(line) ?? true)) stderr += `${line}\n`;
    };
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      // Bounded: ffmpeg's progress lines of a long video, or a stand-in gone wild, must not fill the memory.
      stdout = (stdout + chunk).slice(-256 * 1024);
      options.onStdout?.(chunk);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (partial + chunk).split(/\r?\n|\r/);
      partial = (parts.pop() as string).slice(0, 64 * 1024);
      for (const line of parts) keep(line);
    });
    child.on("error", (error) => reject(signal.aborted ? signal.reason : error));
    child.on("close", (code) => {
      if (partial) keep(partial);
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

/** A number from ffprobe's JSON (it writes most as strings), or undefined. */
function num(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" && value !== "" ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Matroska's DURATION tag ("00:00:06.023000000"), seconds. */
function tagSeconds(value: string | undefined): number | undefined {
  const m = value && /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value.trim());
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

interface ProbeStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  start_time?: string;
  duration?: string;
  disposition?: Record<string, number>;
  tags?: Record<string, string>;
}

interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { duration?: string; start_time?: string; format_name?: string };
}

const lines = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

/** An error line without ffmpeg's `[h264 @ 0x55…]` context and `[error]` level prefixes, at most 300 characters. */
const cleanLine = (line: string) =>
  line
    .replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, "")
    .replace(/^\[(?:error|fatal|panic)\]\s*/, "")
    .slice(0, 300);

/**
 * A line of ffmpeg's log with `-loglevel level+info`: `[<context> @ 0x…] [<level>] text`.
 * The context names who wrote it: the demuxer (the format's name), a decoder (a codec's
 * name), a parser (`NULL`); none for ffmpeg itself.
 */
function logLine(line: string): { context?: string; level?: string; text: string } {
  const m = /^(?:\[([^\]]*?) @ 0x[0-9a-f]+\] )?\[(\w+)\] ?(.*)$/.exec(line);
  return m ? { context: m[1], level: m[2], text: m[3] } : { text: line };
}
const ERROR_LEVELS = new Set(["error", "fatal", "panic"]);

/** What ffmpeg and ffprobe say when the file stops before its container's end. */
const TRUNCATION = /partial file|File ended prematurely|moov atom not found|stream ends prematurely|truncat/i;
/**
 * The same said by a decoder is about one frame's data ("Truncated packet or corrupt header
 * length", libvpx): damage, not a file cut short. Only these phrases are the file's end.
 */
const FILE_CUT = /partial file|File ended prematurely|moov atom not found|stream ends prematurely/i;
/** The machine, not the video: a retry may succeed (disk full, out of memory, ...). */
const ENVIRONMENT =
  /No space left on device|Cannot allocate memory|Too many open files|Input\/output error|Read-only file system|Permission denied|Disk quota exceeded/i;
/** ffmpeg has no decoder for the stream's codec. */
const NO_DECODER = /Unknown decoder|Decoder \(codec [^)]*\) not found|codec not currently supported/i;
/** Complaints about timestamps (the output's clock), not about frames: never damage. */
const TIMESTAMPS_ONLY = /non monotonically increasing dts|Invalid timestamps|non-monotonous DTS|Timestamps are unset/i;
/** The output side (thumbnail encoder, filter, muxer) failed, not the decoder. */
const OUTPUT_SIDE =
  /Error initializing output stream|Error while opening encoder|Error (?:submitting|sending) .*(?:encoder|filter)|Error writing trailer|av_interleaved_write_frame|Could not write header|Error initializing (?:complex )?filters?|Error reinitializing filters|Failed to inject frame/i;

/** Containers that hold one picture, not a video: image2 (JPEG, PNG, ... files) and the *_pipe image demuxers. */
const isImageFormat = (format: string | undefined) =>
  format !== undefined && (format === "image2" || format.split(",").every((f) => f.endsWith("_pipe")));

/** A video stream as the container declares it (nothing decoded yet). */
export interface VideoStream {
  index: number;
  width: number;
  height: number;
  fps: number;
  codec: string;
  /** The stream's start time, seconds (0 when the container gives none). */
  startSeconds: number;
  /**
   * How long the container says this stream lasts, seconds: its own duration, else
   * Matroska's per-track DURATION tag; the file's duration only when the file holds
   * nothing but this stream. Undefined when the container does not say (a live WebM).
   */
  declaredSeconds?: number;
}

export interface ContainerInfo {
  formatName?: string;
  /** The file's start time (the earliest of its streams'), seconds; ffmpeg's output timestamps count from it. */
  startSeconds: number;
  /** Video streams to analyse, in the order they are tried (attached pictures left out). */
  videoStreams: VideoStream[];
  /** Video streams never analysed, and why. */
  skipped: { stream: number; reason: string }[];
}

/** Reads the container; a file that is no video container is a PermanentJobError. */
export async function probeVideo(file: string, signal: AbortSignal, tools = DEFAULT_TOOLS): Promise<ContainerInfo> {
  const result = await runProcess(
    tools.ffprobe,
    ["-v", "error", "-show_streams", "-show_format", "-of", "json", file],
    signal,
  );
  if (result.code !== 0) {
    const last = lines(result.stderr).map(cleanLine).at(-1) ?? `exit ${result.code}`;
    if (ENVIRONMENT.test(result.stderr) || result.code === -1) throw new Error(`ffprobe failed: ${last}`);
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
  const streams = probe.streams ?? [];
  const formatName = probe.format?.format_name;
  const formatStart = num(probe.format?.start_time) ?? 0;
  const formatDuration = num(probe.format?.duration);
  const video = streams.filter((s) => s.codec_type === "video" && s.width && s.height);
  if (video.length === 0) throw new PermanentJobError("not-a-video", "the file has no video stream");
  if (isImageFormat(formatName)) {
    throw new PermanentJobError(
      "still-image",
      `the file is a picture (${video[0].codec_name ?? formatName}), not a video`,
    );
  }
  const skipped: ContainerInfo["skipped"] = [];
  const videoStreams: VideoStream[] = [];
  for (const s of video) {
    const index = s.index ?? streams.indexOf(s);
    if (s.disposition?.attached_pic === 1 || s.disposition?.timed_thumbnails === 1) {
      skipped.push({ stream: index, reason: "an attached picture (cover art)" });
      continue;
    }
    const start = num(s.start_time) ?? formatStart;
    const own = num(s.duration);
    const tag = tagSeconds(s.tags?.DURATION ?? s.tags?.duration);
    // Matroska's tag is the end of the track (from 0); a stream that starts later lasts that minus its start.
    const fromTag = tag === undefined ? undefined : tag > start ? tag - start : tag;
    // The file's duration says something about this stream only when nothing else is in the file;
    // it may count from 0 or from the start: the shorter reading, so that a late start is never "cut short".
    const fromFormat =
      streams.length === 1 && formatDuration !== undefined
        ? Math.min(formatDuration, start > 0 ? formatDuration - start : formatDuration)
        : undefined;
    const declared = own ?? fromTag ?? fromFormat;
    videoStreams.push({
      index,
      width: s.width as number,
      height: s.height as number,
      fps: Math.round((parseRate(s.avg_frame_rate) || parseRate(s.r_frame_rate)) * 1000) / 1000,
      codec: s.codec_name ?? "unknown",
      startSeconds: start,
      declaredSeconds: declared !== undefined && declared > 0 ? declared : undefined,
    });
  }
  if (videoStreams.length === 0) {
    throw new PermanentJobError("still-image", "the file's only video streams are attached pictures (cover art)");
  }
  return { formatName, startSeconds: formatStart, videoStreams, skipped };
}

/** The frames a stream's packets hold, in presentation order (demuxed, not decoded). */
export interface FrameList {
  /** Presentation time of each frame, seconds from the stream's first frame. */
  times: number[];
  /** Numbers (indexes into `times`) of the keyframes. */
  keyframes: number[];
  /** From the first frame to the end of the last one, seconds (undefined without timestamps). */
  spanSeconds?: number;
}

/**
 * The stream's frames from its packets: every packet but those the container marks
 * to discard (an MP4 edit list's lead-in), sorted by presentation time. Times count
 * from the stream's first frame.
 */
export async function listFrames(
  file: string,
  stream: number,
  signal: AbortSignal,
  tools = DEFAULT_TOOLS,
): Promise<FrameList> {
  // A long video has hundreds of thousands of packets: read as they come, never from a kept output.
  const packets: { time: number; duration: number; key: boolean; order: number }[] = [];
  let partial = "";
  const take = (line: string) => {
    const [pts, dts, duration, flags = ""] = line.trim().split(",");
    if (!line.trim() || flags.includes("D")) return;
    const time = num(pts) ?? num(dts);
    packets.push({
      time: time ?? Number.NaN,
      duration: num(duration) ?? 0,
      key: flags.includes("K"),
      order: packets.length,
    });
  };
  const args = ["-v", "error", "-select_streams", String(stream)];
  const result = await runProcess(
    tools.ffprobe,
    [...args, "-show_entries", "packet=pts_time,dts_time,duration_time,flags", "-of", "csv=p=0", file],
    signal,
    {
      onStdout: (chunk) => {
        const parts = (partial + chunk).split("\n");
        partial = parts.pop() as string;
        for (const line of parts) take(line);
      },
    },
  );
  take(partial);
  if (result.code !== 0 && ENVIRONMENT.test(result.stderr)) {
    throw new Error(`ffprobe cannot list the packets: ${lines(result.stderr).at(-1)}`);
  }
  // A damaged or cut file still lists the packets read before the damage: the decode says what is wrong.
  const timed = packets.length > 0 && packets.every((p) => Number.isFinite(p.time));
  if (timed) packets.sort((a, b) => a.time - b.time || a.order - b.order);
  const first = timed ? packets[0].time : 0;
  const round = (t: number) => Math.round(t * 1e6) / 1e6;
  // The end of the last frame: its own duration, unless that is only the container's rounding of the
  // frame rate (Matroska counts milliseconds: 1/24 s is 41 or 42 ms), or missing (MPEG-PS): then the
  // mean interval of the stream's frames.
  const last = packets.at(-1);
  const mean =
    timed && packets.length > 1 ? ((last as (typeof packets)[number]).time - first) / (packets.length - 1) : 0;
  const own = last?.duration ?? 0;
  const lastDuration = own > 0 && (mean === 0 || Math.abs(own - mean) > 0.0011) ? own : mean;
  return {
    times: packets.map((p, i) => (timed ? round(p.time - first) : i)),
    keyframes: packets.flatMap((p, i) => (p.key ? [i] : [])),
    spanSeconds: timed && last ? round(last.time + lastDuration - first) : undefined,
  };
}

/**
 * Frame numbers for min(`count`, frames) thumbnails spread over the video: the
 * video's span is cut into `count` equal slots, and each slot takes the keyframe
 * nearest to its middle (keyframes are usually the sharpest frames), else the
 * frame nearest to its middle, else the nearest frame not taken yet. Never fewer
 * than asked for from a video that has the frames; never a frame twice.
 */
export function pickThumbnailFrames(frames: FrameList, count: number): number[] {
  const total = frames.times.length;
  const wanted = Math.min(Math.max(0, Math.floor(count)), total);
  if (wanted === 0) return [];
  // Frames that share one time (or have none) are spread by their numbers instead.
  const at = (frames.times.at(-1) as number) > 0 ? frames.times : frames.times.map((_, i) => i);
  const span = at[total - 1];
  const taken = new Set<number>();
  const keys = new Set(frames.keyframes);
  const nearest = (target: number, allowed: (i: number) => boolean) => {
    let best = -1;
    for (let i = 0; i < total; i++) {
      if (taken.has(i) || !allowed(i)) continue;
      if (best < 0 || Math.abs(at[i] - target) < Math.abs(at[best] - target)) best = i;
    }
    return best;
  };
  const slots = Array.from({ length: wanted }, (_, s) => ({
    target: (span * (s + 0.5)) / wanted,
    // [from, to); the last slot holds the last frame too.
    holds: (i: number) => at[i] >= (span * s) / wanted && (at[i] < (span * (s + 1)) / wanted || s === wanted - 1),
  }));
  const picks = slots.map((slot) => {
    const pick = nearest(slot.target, (i) => keys.has(i) && slot.holds(i));
    if (pick >= 0) taken.add(pick);
    return pick;
  });
  for (const [s, slot] of slots.entries()) {
    if (picks[s] >= 0) continue;
    let pick = nearest(slot.target, slot.holds);
    if (pick < 0) pick = nearest(slot.target, () => true);
    taken.add(pick);
    picks[s] = pick;
  }
  return picks.sort((a, b) => a - b);
}

/** Decoders that find more damage than ffmpeg's own (measured: docs/worker.md, "What the decode check finds"). */
const CHECKING_DECODERS: Record<string, string> = { vp9: "libvpx-vp9", vp8: "libvpx" };
/** ffmpeg builds without libvpx: the native decoder is used instead (remembered per ffmpeg). */
const missingDecoders = new Set<string>();

export interface DecodeResult {
  frames: number;
  durationSeconds: number;
  /** Thumbnail files written, in order. */
  thumbnails: string[];
}

export interface DecodeOptions {
  /** Frame numbers (presentation order) to write as 320 px wide JPEGs into `dir`. */
  thumbnailFrames?: number[];
  dir?: string;
  /** Seconds of video decoded so far, every few hundred ms (long videos show progress). */
  onProgress?: (decodedSeconds: number) => void;
}

/** `-progress` key=value blocks: the last values of frame and out_time_us. */
function progressTotals(stdout: string): { frames: number; outSeconds: number } {
  let frames = 0;
  let outTimeUs = 0;
  for (const line of lines(stdout)) {
    const [key, value] = line.split("=");
    if (key === "frame") frames = Number(value) || 0;
    if (key === "out_time_us") outTimeUs = Math.max(0, Number(value) || 0);
  }
  return { frames, outSeconds: outTimeUs / 1e6 };
}

/**
 * Decodes every frame of one video stream (nothing written but the thumbnails) and
 * writes the picked frames as JPEGs from the same pass.
 *
 * - a truncation message, or a decoded duration clearly shorter than the stream declares: `truncated`;
 * - any other decoder error: `corrupt` (errors are made loud: `-err_detect explode+aggressive`,
 *   and VP8/VP9 decoded by libvpx, which reports the damage ffmpeg's own decoder passes over);
 * - no decoder for the codec, or thumbnails that cannot be written from a clean decode: `unsupported`;
 * - no frame: `no-video-frames`; a single frame: `still-image`;
 * - the machine failing (disk full, out of memory, killed): a plain Error, retried.
 */
export async function decodeVideo(
  file: string,
  container: Pick<ContainerInfo, "startSeconds" | "formatName">,
  stream: VideoStream,
  signal: AbortSignal,
  tools = DEFAULT_TOOLS,
  options: DecodeOptions = {},
): Promise<DecodeResult> {
  const picks = options.thumbnailFrames ?? [];
  const checking = CHECKING_DECODERS[stream.codec];
  const decoder = checking && !missingDecoders.has(`${tools.ffmpeg} ${checking}`) ? checking : undefined;
  const prefix = "thumb-";
  const args = [
    ...["-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info"],
    ...(decoder ? [`-c:${stream.index}`, decoder] : []),
    ...["-err_detect:v", "+explode+aggressive", "-i", file],
    ...["-map", `0:${stream.index}`, "-f", "null", "-"],
    ...(picks.length > 0 && options.dir
      ? [
          ...[
            "-map",
            `0:${stream.index}`,
            "-vf",
            `select='${picks.map((n) => `eq(n\\,${n})`).join("+")}',scale=320:-2`,
          ],
          ...["-fps_mode", "passthrough", "-q:v", "4", "-f", "image2", join(options.dir, `${prefix}%02d.jpg`)],
        ]
      : []),
    ...["-progress", "pipe:1"],
  ];
  let lastReport = 0;
  // At info level ffmpeg says when decoding starts ("Stream mapping:"). Errors before it come from
  // opening the file: the demuxer's count (a damaged header, a cut file), but a decoder's are from
  // probing, which decodes the first frames of every stream, others included (a broken second
  // stream must not fail the first); this stream's own probing errors come again when it is decoded.
  let decoding = false;
  const result = await runProcess(tools.ffmpeg, args, signal, {
    onStdout: (chunk) => {
      const match = /out_time_us=(\d+)\s*$/m.exec(chunk);
      if (match && options.onProgress && Date.now() - lastReport > 200) {
        lastReport = Date.now();
        options.onProgress(Number(match[1]) / 1e6);
      }
    },
    keepStderrLine: (line) => {
      const { context, level, text } = logLine(line);
      if (level === "info" && text.startsWith("Stream mapping:")) decoding = true;
      if (!level || !ERROR_LEVELS.has(level)) return false;
      return decoding || context === undefined || context === container.formatName || context === "AVIOContext";
    },
  });
  if (decoder && result.code !== 0 && /Unknown decoder/i.test(result.stderr)) {
    missingDecoders.add(`${tools.ffmpeg} ${decoder}`);
    return decodeVideo(file, container, stream, signal, tools, options);
  }

  const { frames, outSeconds } = progressTotals(result.stdout);
  // ffmpeg counts output time from the file's start, on the frame grid: the stream's own span is that
  // minus where the stream starts in the file (an audio track may start earlier).
  const offset = Math.max(0, stream.startSeconds - container.startSeconds);
  const snapped = stream.fps > 0 ? Math.round(offset * stream.fps) / stream.fps : offset;
  const durationSeconds = Math.max(0, Math.round((outSeconds - snapped) * 1000) / 1000);
  const logged = lines(result.stderr).map(logLine);
  const errors = logged.map((l) => cleanLine(l.text));
  const described = (what: string) => `${what} (${frames} frames, ${durationSeconds} s decoded)`;
  // A cut file, as the demuxer (or ffmpeg itself) tells it; a decoder's "truncated" is one frame's damage.
  const cutLine = logged.find(
    (l) =>
      FILE_CUT.test(l.text) ||
      (TRUNCATION.test(l.text) && (l.context === undefined || l.context === container.formatName)),
  );
  const outputErrors = errors.filter((l) => OUTPUT_SIDE.test(l));
  const decodeErrors = errors.filter(
    (l) => !OUTPUT_SIDE.test(l) && !TIMESTAMPS_ONLY.test(l) && !/^Conversion failed!?$/.test(l),
  );

  if (result.code === -1 || ENVIRONMENT.test(result.stderr)) {
    throw new Error(described(`ffmpeg failed: ${errors.find((l) => ENVIRONMENT.test(l)) ?? "killed by a signal"}`));
  }
  if (NO_DECODER.test(result.stderr)) {
    throw new PermanentJobError(
      "unsupported",
      `ffmpeg cannot decode the video's codec (${stream.codec}): ${errors.find((l) => NO_DECODER.test(l))}`,
    );
  }
  if (cutLine) throw new PermanentJobError("truncated", described(`the file is cut short: ${cleanLine(cutLine.text)}`));
  if (decodeErrors.length === 0 && (outputErrors.length > 0 || result.code !== 0)) {
    // The frames decoded; what failed is making pictures of them. The same file fails the same way every time.
    throw new PermanentJobError(
      "unsupported",
      described(
        `the video decodes but ffmpeg cannot write its thumbnails: ${outputErrors[0] ?? `exit ${result.code}`}`,
      ),
    );
  }
  // Frames that fail (and so a short decode) are damage, unless the file said it was cut short (above).
  if (decodeErrors.length > 0) {
    throw new PermanentJobError("corrupt", described(`frames do not decode: ${decodeErrors[0]}`));
  }
  // A clean decode that stops early: the file ends before its end. Tolerance: a stream may end a
  // frame or two away from what its container declares (edit lists, timestamp rounding); 1 s plus
  // 2 % is far above that and far below a cut upload.
  const declared = stream.declaredSeconds;
  if (declared !== undefined && durationSeconds < declared * 0.98 - 1) {
    throw new PermanentJobError(
      "truncated",
      described(`the video stream declares ${Math.round(declared * 1000) / 1000} s but stops early`),
    );
  }
  if (frames === 0) throw new PermanentJobError("no-video-frames", "the video stream has no frame that decodes");
  if (frames === 1) throw new PermanentJobError("still-image", "the video stream holds a single picture");
  const thumbnails = options.dir
    ? readdirSync(options.dir)
        .filter((name) => name.startsWith(prefix) && name.endsWith(".jpg"))
        .sort()
        .map((name) => join(options.dir as string, name))
    : [];
  return { frames, durationSeconds, thumbnails };
}

export interface AnalyseOptions {
  /** Thumbnails to write: min(count, frames) JPEGs into `dir`. Default: none. */
  thumbnails?: { dir: string; count: number };
  /** Seconds of the analysed stream decoded so far (progress of a long decode). */
  onProgress?: (decodedSeconds: number, declaredSeconds?: number) => void;
}

/**
 * The container, checked by a full decode of its main video stream, and its
 * thumbnails from the same decode. Duration and frame count are the decoded ones.
 */
export async function analyseVideo(
  file: string,
  signal: AbortSignal,
  tools = DEFAULT_TOOLS,
  options: AnalyseOptions = {},
): Promise<VideoAnalysis> {
  const container = await probeVideo(file, signal, tools);
  const skipped = [...container.skipped];
  let firstFailure: PermanentJobError | undefined;
  for (const stream of container.videoStreams) {
    try {
      const analysis = await analyseStream(file, container, stream, signal, tools, options);
      return { ...analysis, skipped };
    } catch (error) {
      if (!(error instanceof PermanentJobError)) throw error;
      firstFailure ??= error;
      skipped.push({ stream: stream.index, reason: `${error.reason}: ${error.message}` });
    }
  }
  const failure = firstFailure as PermanentJobError;
  if (container.videoStreams.length < 2) throw failure;
  // Every video stream failed: the first one's reason, which is the main stream's.
  throw new PermanentJobError(failure.reason, `${failure.message} (stream ${container.videoStreams[0].index})`, {
    cause: failure,
  });
}

async function analyseStream(
  file: string,
  container: ContainerInfo,
  stream: VideoStream,
  signal: AbortSignal,
  tools: MediaTools,
  options: AnalyseOptions,
): Promise<Omit<VideoAnalysis, "skipped">> {
  const count = options.thumbnails?.count ?? 0;
  const frameList = await listFrames(file, stream.index, signal, tools);
  const picks = pickThumbnailFrames(frameList, count);
  const decoded = await decodeVideo(file, container, stream, signal, tools, {
    thumbnailFrames: picks,
    dir: options.thumbnails?.dir,
    onProgress: options.onProgress && ((s) => options.onProgress?.(s, stream.declaredSeconds)),
  });
  let thumbnails = decoded.thumbnails;
  const wanted = Math.min(count, decoded.frames);
  if (options.thumbnails && thumbnails.length < wanted) {
    // The decoder gave fewer frames than the container's packets promised (the picks reached past
    // its end): pick again from the frames that did decode, evenly, and take them in a second pass.
    const dir = join(options.thumbnails.dir, "again");
    mkdirSync(dir, { recursive: true });
    const evenly = pickThumbnailFrames(
      { times: Array.from({ length: decoded.frames }, (_, i) => i), keyframes: [] },
      wanted,
    );
    thumbnails = (
      await decodeVideo(file, container, { ...stream, declaredSeconds: undefined }, signal, tools, {
        thumbnailFrames: evenly,
        dir,
      })
    ).thumbnails;
    if (thumbnails.length < wanted) {
      throw new PermanentJobError(
        "unsupported",
        `the video decodes (${decoded.frames} frames) but ffmpeg wrote ${thumbnails.length} of ${wanted} thumbnails`,
      );
    }
  }
  // Every packet decoded to a frame: the frames' own timestamps give the span exactly (ffmpeg's
  // output clock is rounded to its frame grid). Otherwise, what the decode measured.
  const exact = decoded.frames === frameList.times.length ? frameList.spanSeconds : undefined;
  return {
    video: {
      durationSeconds: exact !== undefined ? Math.round(exact * 1000) / 1000 : decoded.durationSeconds,
      width: stream.width,
      height: stream.height,
      fps: stream.fps,
      codec: stream.codec,
      frameCount: decoded.frames,
      stream: stream.index,
    },
    thumbnails,
  };
}
