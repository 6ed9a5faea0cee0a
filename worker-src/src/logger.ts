/**
 * Structured logs: one JSON object per line on stdout, which the awslogs driver
 * sends to CloudWatch Logs. Every line has time, level and msg; children add
 * fields (jobId, attempt, ...) to every line they write.
 *
 * Sizes are bounded where they matter, as written (UTF-8 bytes of the JSON text,
 * escapes included: a control character is 1 byte in a message and 6 in a line):
 * every string at most FIELD_CAP bytes, marked as cut, and every line at most
 * LINE_CAP bytes (fields are cut shorter, then all but the identifying ones dropped,
 * until it fits). A field may come from a message (a 256 KB videoKey), and a line
 * must stay far below CloudWatch's 256 KB event limit and the container runtime's
 * 16 KB split.
 *
 * Secrets never reach a line: fields named like one are redacted, and the
 * credentials of anything URL-like (`scheme://user:password@host`, even when it does
 * not parse as a URL) and secret query parameters are masked wherever they appear.
 */
export type Level = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Longest string in a log line, as written: UTF-8 bytes of its JSON form, quotes included. */
export const FIELD_CAP = 1024;
/** Longest log line, UTF-8 bytes (the newline not counted). */
export const LINE_CAP = 4096;
/** Field names whose text values are secrets (booleans and numbers under them are kept). */
const SECRET_KEY = /password|passwd|secret|authorization|credential|^database_?url$|^token$/i;
/** Fields kept when a line must shed fields to fit LINE_CAP. */
const IDENTIFYING = ["time", "level", "msg", "service", "version", "jobId", "messageId", "attempt", "variable"];

/** A scheme (`http://`, `postgresql+asyncpg://`, ...); s3:// names a bucket and key, never credentials. */
const SCHEME = /\b(?!s3:\/\/)[a-z][a-z0-9+.-]*:\/\//gi;
/** Query parameters that carry secrets (a password in a database URL, a presigned URL's signature). */
const SECRET_PARAM =
  /([?&;]\s*(?:password|passwd|pwd|pass|secret|token|access_token|api_key|apikey|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token)=)[^&\s#"]*/gi;

/**
 * The text with every URL-like value's credentials masked: after each `scheme://`,
 * everything up to the last `@` before the next scheme (or the end) is the user
 * information, whatever it holds (`/`, `@`, spaces: a password need not be valid in
 * a URL to be a secret). Secret query parameters are masked too. Over-masking is
 * the price: `http://host/a@b` shows as `http://***@b`.
 */
export function maskSecrets(text: string): string {
  let out = text;
  if (out.includes("@") && out.includes("://")) {
    const schemes = [...out.matchAll(SCHEME)];
    let masked = "";
    let from = 0;
    for (const [i, m] of schemes.entries()) {
      const start = (m.index as number) + m[0].length;
      const end = i + 1 < schemes.length ? (schemes[i + 1].index as number) : out.length;
      const segment = out.slice(start, end);
      const at = segment.lastIndexOf("@");
      masked += out.slice(from, start) + (at >= 0 ? `***${segment.slice(at)}` : segment);
      from = end;
    }
    out = masked + out.slice(from);
  }
  return out.replace(SECRET_PARAM, "$1***");
}

/** UTF-8 bytes of a string's JSON form. */
const jsonBytes = (value: string) => Buffer.byteLength(JSON.stringify(value));

/** The string masked, and cut (marked) so that its JSON form is at most `cap` bytes. */
function capString(value: string, cap: number): string {
  const masked = maskSecrets(value);
  if (masked.length <= cap / 6 - 2 || jsonBytes(masked) <= cap) return masked;
  const marker = `…[cut, ${masked.length} characters]`;
  // The longest prefix that fits with its marker: every character takes at least one byte.
  let low = 0;
  let high = Math.min(masked.length, cap);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (jsonBytes(masked.slice(0, mid) + marker) <= cap) low = mid;
    else high = mid - 1;
  }
  // Never half a surrogate pair.
  const code = masked.charCodeAt(low - 1);
  if (low > 0 && code >= 0xd800 && code <= 0xdbff) low--;
  return masked.slice(0, low) + marker;
}

/** The value with every string capped and masked, secrets redacted, depth and breadth bounded. */
export function sanitize(value: unknown, depth = 0, cap = FIELD_CAP): unknown {
  if (typeof value === "string") return capString(value, cap);
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Error) return sanitize(errorFields(value), depth, cap);
  if (depth >= 6) return "[nested too deep]";
  if (Array.isArray(value)) {
    const kept = value.slice(0, 50).map((v) => sanitize(v, depth + 1, cap));
    return value.length > 50 ? [...kept, `…[cut, ${value.length} items]`] : kept;
  }
  const out: Fields = {};
  for (const [key, v] of Object.entries(value)) {
    out[capString(key, 200)] =
      SECRET_KEY.test(key) && (typeof v === "string" || (typeof v === "object" && v !== null))
        ? "[redacted]"
        : sanitize(v, depth + 1, cap);
  }
  return out;
}

/**
 * One log line of at most LINE_CAP bytes: the record with strings capped at
 * FIELD_CAP; if that is too long, at a quarter of it; if still too long, only the
 * identifying fields, and a note of what was dropped.
 */
export function formatLine(record: Fields): string {
  for (const cap of [FIELD_CAP, FIELD_CAP / 4]) {
    const line = JSON.stringify(sanitize(record, 0, cap));
    if (Buffer.byteLength(line) <= LINE_CAP) return line;
  }
  const kept = Object.fromEntries(IDENTIFYING.filter((k) => k in record).map((k) => [k, record[k]]));
  const dropped = Object.keys(record).filter((k) => !IDENTIFYING.includes(k));
  return JSON.stringify(
    sanitize({ ...kept, cut: `line over ${LINE_CAP} bytes: ${dropped.length} fields dropped` }, 0, FIELD_CAP / 4),
  );
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
      write(formatLine(record));
    };
    return {
      debug: (msg, fields) => emit("debug", msg, fields),
      info: (msg, fields) => emit("info", msg, fields),
      warn: (msg, fields) => emit("warn", msg, fields),
      error: (msg, fields) => emit("error", msg, fields),
      child: (fields) => make({ ...base, ...fields }),
      raw: (document) => write(formatLine(document)),
    };
  };
  return make({ service: "worker", ...options.base });
}
