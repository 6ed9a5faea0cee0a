/**
 * How the project's commands end: the exit code that `main` returns, or for an
 * error one line on stderr and exit 1. Bad input (a UsageError, an unknown
 * option) prints its message; anything else is a bug and prints its stack.
 */
import { UsageError } from "./stack-json.js";

export function runCli(name: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const known = error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
      process.stderr.write(`${name}: ${known ? (error as Error).message : String((error as Error).stack ?? error)}\n`);
      process.exitCode = 1;
    },
  );
}
