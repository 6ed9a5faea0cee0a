/** A gate for the stand-in ffmpeg (stand-in/gated.sh): jobs wait at their first ffmpeg run until the test opens it. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./emulator.js";

export const GATED = join(import.meta.dirname, "stand-in", "gated.sh");

export interface Gate {
  /** The environment that makes a worker run ffmpeg through the gate. */
  env: Record<string, string>;
  /** Pids of the stand-in processes started so far. */
  started(): number[];
  /** Resolves once `count` ffmpeg runs wait at the gate. */
  waiting(count?: number, timeoutMs?: number): Promise<number[]>;
  open(): void;
  /** Pids that are still running. */
  alive(): number[];
}

export function makeGate(): Gate {
  const dir = mkdtempSync(join(tmpdir(), "cricksy-gate-"));
  const started = () => {
    const file = join(dir, "started");
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number);
  };
  return {
    env: { WORKER_FFMPEG: GATED, GATE_DIR: dir, GATE_REAL: "ffmpeg" },
    started,
    waiting: (count = 1, timeoutMs = 30_000) =>
      waitFor(
        () => (started().length >= count ? started() : undefined),
        timeoutMs,
        `${count} ffmpeg run(s) at the gate`,
      ),
    open: () => writeFileSync(join(dir, "open"), ""),
    alive: () =>
      started().filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      }),
  };
}
