/**
 * The errors the tools raise on purpose. Each carries a message written for the
 * user (one line that names the input and the fix) and, where another error
 * caused it, that error as `cause`. The command runner prints `ToolError`s as
 * their message, never as a stack trace.
 */

/** A failure the tools expect and explain: printed as its message, exit 1. */
export class ToolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input: an option, an argument or a file that the command cannot use. */
export class UsageError extends ToolError {}

/** A program that the tools run (terraform, git, the app) failed or could not start. */
export class ProcessError extends ToolError {
  constructor(
    message: string,
    readonly result: { command: string; code: number; stdout: string; stderr: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The message of an error and of its causes, as one line: `a: b: c`. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && parts.length < 5; e = (e as { cause?: unknown }).cause) {
    const message = e instanceof Error ? e.message : String(e);
    if (!parts.some((p) => p.includes(message))) parts.push(message);
    if (!(e instanceof Error)) break;
  }
  return parts.join(": ");
}
