import { createLogger, type Logger } from "../../src/logger.js";

/** A real logger whose lines are kept in memory, parsed. */
export function memoryLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: "debug", write: (line) => lines.push(JSON.parse(line)) });
  return { log, lines };
}
