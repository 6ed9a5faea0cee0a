/** DATABASE_URL in the forms the backend's drivers take; never a secret in an error or a description. */
import { describe, expect, it } from "vitest";
import { DatabaseSettingError, describeDatabase, parseDatabaseSetting } from "../src/database.js";

const SECRET = "s3cr%3At!";

describe("parseDatabaseSetting", () => {
  it.each([
    ["postgres://app:pw@db.internal:5432/cricksy", { host: "db.internal", port: 5432, database: "cricksy" }],
    ["postgresql://app:pw@db.internal/cricksy?sslmode=require", { port: 5432, options: { sslmode: "require" } }],
    ["postgresql+asyncpg://app:pw@db.internal:6432/cricksy", { driver: "asyncpg", port: 6432 }],
    ["postgresql+psycopg2://app:pw@10.0.0.5/cricksy", { driver: "psycopg2", host: "10.0.0.5" }],
    ["postgres+pg8000://app:pw@[::1]:5433/cricksy", { driver: "pg8000", host: "::1", port: 5433 }],
    ["POSTGRESQL+PSYCOPG://app:pw@db/cricksy", { driver: "psycopg", host: "db" }],
    ["postgresql://app@/cricksy?host=/var/run/postgresql", { host: "/var/run/postgresql", password: undefined }],
  ])("reads the URL %s", (url, expected) => {
    expect(parseDatabaseSetting(url)).toMatchObject({
      dialect: "postgresql",
      username: "app",
      source: "url",
      ...expected,
    });
  });

  it("decodes a percent-encoded user and password", () => {
    expect(parseDatabaseSetting(`postgresql+asyncpg://us%40er:${SECRET}@db/app`)).toMatchObject({
      username: "us@er",
      password: "s3cr:t!",
    });
  });

  it("reads a Secrets Manager RDS secret", () => {
    const secret = JSON.stringify({
      username: "app",
      password: "pw",
      engine: "postgres",
      host: "cricksy.cluster-abc.us-east-2.rds.amazonaws.com",
      port: 5432,
      dbname: "cricksy",
      dbInstanceIdentifier: "cricksy-prod",
    });
    expect(parseDatabaseSetting(secret)).toEqual({
      dialect: "postgresql",
      host: "cricksy.cluster-abc.us-east-2.rds.amazonaws.com",
      port: 5432,
      database: "cricksy",
      username: "app",
      password: "pw",
      options: {},
      source: "rds-secret",
    });
    // An RDS-managed master secret holds the user and password only; aurora-postgresql is PostgreSQL; ports may be strings.
    expect(parseDatabaseSetting('{"username":"a","password":"b"}')).toMatchObject({ port: 5432, host: undefined });
    expect(
      parseDatabaseSetting('{"username":"a","password":"b","engine":"aurora-postgresql","port":"6432"}'),
    ).toMatchObject({
      port: 6432,
    });
  });

  it.each([
    ["mysql+pymysql://app:hunter2@db/x", 'has the scheme "mysql+pymysql"'],
    ["postgresql+a+b://app:hunter2@db/x", 'has the scheme "postgresql+a+b"'],
    ["app:hunter2@db/x", "is neither a URL"],
    ["postgresql://app:hunter2@db:99999/x", "does not parse"],
    ['{"username":"app","password":"hunter2"', "not valid JSON"],
    ['{"username":"app"}', "without password"],
    ['{"password":"hunter2"}', "without username"],
    ['{"username":"app","password":"hunter2","engine":"mysql"}', 'for the engine "mysql"'],
    ['{"username":"app","password":"hunter2","port":"x"}', "port is not a number"],
    ['{"user":["hunter2"]}', "without username and password"],
  ])("rejects %s with a reason that does not quote the secret", (value, reason) => {
    let error: unknown;
    try {
      parseDatabaseSetting(value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DatabaseSettingError);
    expect((error as Error).message).toContain(reason);
    expect((error as Error).message).not.toContain("hunter2");
  });
});

describe("describeDatabase", () => {
  it("describes the settings without the password", () => {
    const text = JSON.stringify(
      describeDatabase(
        parseDatabaseSetting("postgresql+asyncpg://app:hunter2@db/x?sslpassword=hunter2&sslmode=require"),
      ),
    );
    expect(text).not.toContain("hunter2");
    expect(JSON.parse(text)).toMatchObject({ host: "db", hasPassword: true, options: { sslmode: "require" } });
  });

  it("counts a password given as a query parameter (libpq's ?password=) as a password", () => {
    const settings = parseDatabaseSetting("postgresql://app@db/cricksy?password=hunter2&sslmode=require");
    expect(settings.password).toBe("hunter2");
    const text = JSON.stringify(describeDatabase(settings));
    expect(text).not.toContain("hunter2");
    expect(JSON.parse(text)).toMatchObject({
      hasPassword: true,
      options: { password: "[redacted]", sslmode: "require" },
    });
  });
});
