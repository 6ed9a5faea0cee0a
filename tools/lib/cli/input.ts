/**
 * Files the user names: read with one clear line when they are missing or not
 * JSON (the line never quotes the file's content).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { UsageError } from "./errors.js";

/** Fails with "<path> does not exist" unless there is a file or folder at `path`. */
export function assertExists(path: string): void {
  if (!existsSync(path)) throw new UsageError(`${path} does not exist`);
}

/** The parsed JSON of a file; a UsageError when it is missing, a folder, or not JSON (with the line and column). */
export function readJsonFile(path: string): unknown {
  assertExists(path);
  if (statSync(path).isDirectory()) throw new UsageError(`${path} is a folder, not a JSON file`);
  const text = readFileSync(path, "utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    let where = "";
    if (position !== undefined) {
      const before = text.slice(0, Number(position)).split("\n");
      where = ` (line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1})`;
    } else if (/end of JSON input/.test((error as Error).message)) {
      where = " (it ends too early)";
    }
    throw new UsageError(`${path} is not JSON${where}`, { cause: error });
  }
}
