/**
 * The one way the tools run another program (terraform, git, the app through
 * tsx, npm, cdktf): asynchronously, output collected, never through a shell.
 * A non-zero exit is a result, not an exception; a program that cannot start
 * (not installed, not executable) is a `ProcessError` that says so.
 */
import { spawn } from "node:child_process";
import { ProcessError } from "./errors.js";

export interface ProcessResult {
  /** The command line, for messages: `terraform plan -no-color`. */
  command: string;
  /** Exit code; a program killed by a signal counts as 128 + its number, as in a shell. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface ProcessOptions {
  cwd?: string;
  /** The whole environment of the program. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** `inherit`: the program writes to this process's stdout/stderr (and the result holds no output). */
  stdio?: "pipe" | "inherit";
  /** Written to the program's stdin, which is then closed. Default: stdin is closed at once. */
  input?: string;
  /** Stop the program (SIGTERM) after this long; it then ends as killed (143). Default: no limit. */
  timeoutMs?: number;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export function runProcess(command: string, args: string[], options: ProcessOptions = {}): Promise<ProcessResult> {
  const line = [command, ...args].join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["pipe", options.stdio ?? "pipe", options.stdio ?? "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGTERM"), options.timeoutMs) : undefined;
    child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    let failed = false;
    child.on("error", (error: NodeJS.ErrnoException) => {
      failed = true;
      clearTimeout(timer);
      const why = error.code === "ENOENT" ? "is not installed or not on PATH" : `could not start (${error.code})`;
      reject(
        new ProcessError(`${command} ${why}`, { command: line, code: 127, stdout: "", stderr: "" }, { cause: error }),
      );
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (failed) return;
      resolve({
        command: line,
        code: code ?? 128 + (SIGNALS[signal ?? ""] ?? 0),
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
    // A program that exits (or never starts) without reading its input is not an error of ours.
    child.stdin?.on("error", () => {});
    child.stdin?.end(options.input ?? "");
  });
}

/** Like `runProcess`, but a non-zero exit is a `ProcessError` naming `what` and the end of the program's stderr. */
export async function runProcessOk(
  command: string,
  args: string[],
  options: ProcessOptions & { what?: string } = {},
): Promise<ProcessResult> {
  const result = await runProcess(command, args, options);
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split("\n").slice(-3).join(" | ");
    throw new ProcessError(`${options.what ?? result.command} failed (exit ${result.code}): ${tail}`, result);
  }
  return result;
}
