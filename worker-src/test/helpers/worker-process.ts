/** The built worker (`node dist/main.js`) as a child process, with its JSON log lines. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const WORKER_ROOT = resolve(import.meta.dirname, "..", "..");
export const MAIN = join(WORKER_ROOT, "dist", "main.js");

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface WorkerProcess {
  child: ChildProcess;
  lines: LogLine[];
  /** Non-JSON output (should stay empty). */
  other: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startWorker(env: Record<string, string>, options: { main?: string; cwd?: string } = {}): WorkerProcess {
  const scratch = mkdtempSync(join(tmpdir(), "cricksy-worker-"));
  const child = spawn(process.execPath, [options.main ?? MAIN], {
    cwd: options.cwd ?? WORKER_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      WORKER_SCRATCH_DIR: scratch,
      WORKER_HEALTH_FILE: join(scratch, "health"),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  const other: string[] = [];
  const waiters = new Set<() => void>();
  let buffer = "";
  const take = (chunk: string) => {
    buffer += chunk;
    let index = buffer.indexOf("\n");
    while (index >= 0) {
      const line = buffer.slice(0, index);
      buffer = buffer.slice(index + 1);
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        if (line.trim()) other.push(line);
      }
      index = buffer.indexOf("\n");
    }
    for (const wake of waiters) wake();
  };
  child.stdout?.setEncoding("utf8").on("data", take);
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => other.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) =>
    child.on("exit", (code, signal) => {
      for (const wake of waiters) wake();
      resolvePromise({ code, signal });
    }),
  );

  const waitForLog: WorkerProcess["waitForLog"] = (predicate, timeoutMs = 20_000, what = "a log line") =>
    new Promise((resolvePromise, reject) => {
      const check = () => {
        const found = lines.find(predicate);
        if (found) {
          cleanup();
          resolvePromise(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          reject(
            new Error(
              `worker exited before ${what}; its log:\n${lines.map((l) => JSON.stringify(l)).join("\n")}\n${other.join("")}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out waiting for ${what}; worker log:\n${lines.map((l) => JSON.stringify(l)).join("\n")}\n${other.join("")}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    child,
    lines,
    other,
    exited,
    waitForLog,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
