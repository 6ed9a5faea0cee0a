/**
 * Liveness for the container health check: the consumer loop touches a file
 * while it runs (after every receive, and every few seconds while all slots are
 * busy); `dist/healthcheck.js` fails when the file is older than the limit.
 */
import { writeFileSync } from "node:fs";

export class Liveness {
  private last = 0;

  constructor(
    readonly file: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records that the loop is alive; writes at most once a second. */
  beat(): void {
    const now = this.now();
    if (now - this.last < 1000) return;
    this.last = now;
    try {
      writeFileSync(this.file, `${now}\n`);
    } catch {
      // A full or read-only disk must not stop the worker; the health check will say so.
    }
  }
}

/** Age in seconds of the last beat in `file`, or undefined when there is none. */
export function livenessAgeS(content: string | undefined, now: number): number | undefined {
  const at = Number(content?.trim());
  if (!content || !Number.isFinite(at) || at <= 0) return undefined;
  return (now - at) / 1000;
}
