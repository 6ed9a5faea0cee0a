/**
 * DATABASE_URL in the forms the backend's drivers take: a PostgreSQL URL
 * (`postgres://`, `postgresql://`), a SQLAlchemy URL with a driver
 * (`postgresql+asyncpg://`, `postgresql+psycopg2://`, `postgres+<driver>://`),
 * or the JSON document of a Secrets Manager RDS secret
 * (`{"username", "password", "host", "port", "dbname", "engine", ...}`).
 *
 * The worker does not use the database yet: main reads it at start and only
 * warns when it cannot (a variable it does not use must never stop it).
 * Nothing here ever puts the password, or any part of the raw value beyond a
 * URL's scheme, into an error message.
 */

export interface DatabaseSettings {
  /** Always PostgreSQL: the backend's database. */
  dialect: "postgresql";
  /** A SQLAlchemy driver (asyncpg, psycopg2, ...), when the URL names one. */
  driver?: string;
  /** Host name, or undefined for a local socket / a secret without host. */
  host?: string;
  port: number;
  database?: string;
  username?: string;
  /** The secret. Never log this object whole: use describeDatabase(). */
  password?: string;
  /** Query parameters of a URL (sslmode, ...). */
  options: Record<string, string>;
  source: "url" | "rds-secret";
}

export class DatabaseSettingError extends Error {
  override name = "DatabaseSettingError";
}

const DEFAULT_PORT = 5432;
/** Engines of RDS secrets that are PostgreSQL. */
const POSTGRES_ENGINES = new Set(["postgres", "postgresql", "aurora-postgresql"]);

export function parseDatabaseSetting(raw: string): DatabaseSettings {
  const value = raw.trim();
  if (value.startsWith("{")) return parseSecret(value);
  return parseUrl(value);
}

function parseUrl(value: string): DatabaseSettings {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (!scheme) {
    throw new DatabaseSettingError("is neither a URL (scheme://...) nor a JSON secret ({...})");
  }
  const [dialect, driver, ...more] = scheme.split("+");
  if (!["postgres", "postgresql"].includes(dialect) || more.length > 0 || driver === "") {
    throw new DatabaseSettingError(
      `has the scheme "${scheme}"; expected postgres://, postgresql:// or postgresql+<driver>://`,
    );
  }
  // libpq allows an empty host (a local socket, `postgresql://user@/db?host=/run/postgresql`);
  // WHATWG URL does not after a user name: a placeholder host stands in for it.
  const SOCKET = "socket.invalid";
  let url: URL;
  try {
    url = new URL(value.replace(/^([^:]+:\/\/(?:[^@/?#]*@)?)(?=[/?#]|$)/, `$1${SOCKET}`));
  } catch {
    throw new DatabaseSettingError(`is a ${scheme}:// URL that does not parse (check the percent-encoding)`);
  }
  const port = url.port ? Number(url.port) : DEFAULT_PORT;
  const options = Object.fromEntries(url.searchParams);
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw new DatabaseSettingError(`is a ${scheme}:// URL with a malformed percent-encoding`);
    }
  };
  return {
    dialect: "postgresql",
    ...(driver ? { driver } : {}),
    host: (url.hostname !== SOCKET && url.hostname.replace(/^\[|\]$/g, "")) || options.host || undefined,
    port,
    database: decode(url.pathname.replace(/^\//, "")) || undefined,
    username: url.username ? decode(url.username) : options.user || undefined,
    // libpq takes the password from the query too (`?password=...`): a password all the same.
    password: url.password ? decode(url.password) : options.password,
    options,
    source: "url",
  };
}

function parseSecret(value: string): DatabaseSettings {
  let secret: unknown;
  try {
    secret = JSON.parse(value);
  } catch {
    // JSON.parse's message quotes the input: never pass it on.
    throw new DatabaseSettingError("starts like a JSON secret but is not valid JSON");
  }
  if (typeof secret !== "object" || secret === null || Array.isArray(secret)) {
    throw new DatabaseSettingError("is JSON but not an object with username and password");
  }
  const s = secret as Record<string, unknown>;
  const text = (key: string) => (typeof s[key] === "string" && s[key] !== "" ? (s[key] as string) : undefined);
  const missing = ["username", "password"].filter((key) => text(key) === undefined);
  if (missing.length > 0) {
    throw new DatabaseSettingError(`is a JSON secret without ${missing.join(" and ")}`);
  }
  const engine = text("engine");
  if (engine !== undefined && !POSTGRES_ENGINES.has(engine)) {
    throw new DatabaseSettingError(`is a JSON secret for the engine "${engine}", not PostgreSQL`);
  }
  const port = typeof s.port === "number" ? s.port : s.port === undefined ? DEFAULT_PORT : Number(s.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DatabaseSettingError("is a JSON secret whose port is not a number from 1 to 65535");
  }
  return {
    dialect: "postgresql",
    host: text("host"),
    port,
    database: text("dbname"),
    username: text("username"),
    password: text("password"),
    options: {},
    source: "rds-secret",
  };
}

/** The settings without the secret, for a log line. */
export function describeDatabase(settings: DatabaseSettings): Record<string, unknown> {
  const { password, options, ...rest } = settings;
  const safeOptions = Object.fromEntries(
    Object.entries(options).map(([k, v]) => [k, /pass|secret|token|key/i.test(k) ? "[redacted]" : v]),
  );
  return { ...rest, hasPassword: password !== undefined, options: safeOptions };
}
