/**
 * Temporary folders that are always removed: at the end of the work that made
 * them, and (synchronously) when the process exits early, also on Ctrl-C or
 * SIGTERM (runCommand turns those into an exit).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const atExit = new Set<() => void>();
let hooked = false;

/** Runs `cleanup` (synchronous) if the process exits before `done()` is called; returns `done`. */
export function untilExit(cleanup: () => void): () => void {
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const fn of atExit) {
        try {
          fn();
        } catch {
          // Best effort: the next cleanup still runs.
        }
      }
    });
  }
  atExit.add(cleanup);
  return () => atExit.delete(cleanup);
}

export interface TempDir {
  dir: string;
  /** Removes the folder and all it holds. */
  remove(): void;
}

/** A new folder under the system's temp folder (`<prefix>XXXXXX`), removed by `remove()` or at exit. */
export function tempDir(prefix: string): TempDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const done = untilExit(remove);
  return {
    dir,
    remove() {
      done();
      remove();
    },
  };
}
