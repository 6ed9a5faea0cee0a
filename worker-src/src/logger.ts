/**
 * Structured logs: one JSON object per line on stdout, which the awslogs driver
 * sends to CloudWatch Logs. Every line has time, level and msg; children add
 * fields (jobId, attempt, ...) to every line they write.
 */
export type Level = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

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
      if (record.err instanceof Error) record.err = errorFields(record.err);
      write(JSON.stringify(record));
    };
    return {
      debug: (msg, fields) => emit("debug", msg, fields),
      info: (msg, fields) => emit("info", msg, fields),
      warn: (msg, fields) => emit("warn", msg, fields),
      error: (msg, fields) => emit("error", msg, fields),
      child: (fields) => make({ ...base, ...fields }),
      raw: (document) => write(JSON.stringify(document)),
    };
  };
  return make({ service: "worker", ...options.base });
}
