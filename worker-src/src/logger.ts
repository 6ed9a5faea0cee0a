/**
 * Structured logs: one JSON object per line on stdout, which the awslogs driver
 * sends to CloudWatch Logs. Every line has time, level and msg; children add
 * fields (jobId, attempt, ...) to every line they write.
 *
 * Every string in a line is capped at FIELD_CAP characters, marked as cut: a
 * field may come from a message (a 256 KB videoKey), and a line must stay far
 * below CloudWatch's 256 KB event limit and the container runtime's 16 KB split.
 * Secrets never reach a line: fields named like one are redacted, and a URL's
 * password is masked wherever it appears.
 */
export type Level = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Longest string kept whole in a log line, characters. */
export const FIELD_CAP = 1024;
/** Field names whose text values are secrets (booleans and numbers under them are kept). */
const SECRET_KEY = /password|passwd|secret|authorization|credential|^database_?url$|^token$/i;

function capString(value: string): string {
  const masked = value.replace(/(\/\/[^/:@\s]*):[^/@\s]*@/g, "$1:***@");
  return masked.length > FIELD_CAP ? `${masked.slice(0, FIELD_CAP)}…[cut, ${masked.length} characters]` : masked;
}

/** The value with every string capped and masked, secrets redacted, depth and breadth bounded. */
export function sanitize(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return capString(value);
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Error) return sanitize(errorFields(value), depth);
  if (depth >= 6) return "[nested too deep]";
  if (Array.isArray(value)) {
    const kept = value.slice(0, 50).map((v) => sanitize(v, depth + 1));
    return value.length > 50 ? [...kept, `…[cut, ${value.length} items]`] : kept;
  }
  const out: Fields = {};
  for (const [key, v] of Object.entries(value)) {
    out[capString(key).slice(0, 200)] =
      SECRET_KEY.test(key) && (typeof v === "string" || (typeof v === "object" && v !== null))
        ? "[redacted]"
        : sanitize(v, depth + 1);
  }
  return out;
}

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
  /** Writes one raw JSON line, whatever the level (Embedded Metric Format documents). */
  raw(document: Fields): void;
}

export interface LoggerOptions {
  level?: Level;
  write?: (line: string) => void;
  now?: () => Date;
  base?: Fields;
}

/** An Error as plain fields (name, message, code), so that it survives JSON.stringify. */
export function errorFields(error: unknown): Fields {
  if (error instanceof Error) {
    const withCode = error as Error & { code?: unknown; $metadata?: { httpStatusCode?: number } };
    return {
      name: error.name,
      message: error.message,
      ...(withCode.code === undefined ? {} : { code: withCode.code }),
      ...(withCode.$metadata?.httpStatusCode === undefined ? {} : { httpStatus: withCode.$metadata.httpStatusCode }),
    };
  }
  return { message: String(error) };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = ORDER[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());

  const make = (base: Fields): Logger => {
    const emit = (level: Level, msg: string, fields?: Fields) => {
      if (ORDER[level] < threshold) return;
      const record: Fields = { time: now().toISOString(), level, msg, ...base, ...fields };
      write(JSON.stringify(sanitize(record)));
    };
    return {
      debug: (msg, fields) => emit("debug", msg, fields),
      info: (msg, fields) => emit("info", msg, fields),
      warn: (msg, fields) => emit("warn", msg, fields),
      error: (msg, fields) => emit("error", msg, fields),
      child: (fields) => make({ ...base, ...fields }),
      raw: (document) => write(JSON.stringify(sanitize(document))),
    };
  };
  return make({ service: "worker", ...options.base });
}
