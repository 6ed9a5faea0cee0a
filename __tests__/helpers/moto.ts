/**
 * moto's server (PyPI `moto[server]`, pinned in tools/python) as the AWS API of a
 * test: one process on a free loopback port, started and stopped by the test file
 * that uses it. It answers every service on one endpoint (STS, IAM, EC2, ECS,
 * CloudWatch, CloudWatch Logs, Application Auto Scaling, SQS, S3, SNS, KMS,
 * Secrets Manager, ELBv2, ...), in account 123456789012.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../tools/lib/project.js";

export const VENV_PYTHON = join(PROJECT_ROOT, ".venv", "bin", "python");
/** The account moto answers in (`sts:GetCallerIdentity`); the legacy module's account as well. */
export const MOTO_ACCOUNT = "123456789012";

/** Fails with one line that says what to run when the project's Python tools are not installed. */
export function assertVenv(): void {
  if (!existsSync(VENV_PYTHON)) {
    throw new Error(
      `${VENV_PYTHON} is missing: run \`npm ci\` (it installs moto and checkov into .venv from tools/python; needs python3 with venv)`,
    );
  }
}

let version: string | undefined;
/** The installed moto's version, e.g. "5.2.5" (the known limits are per version). */
export function motoVersion(): string {
  assertVenv();
  version ??= execFileSync(VENV_PYTHON, ["-c", "import importlib.metadata as m; print(m.version('moto'))"], {
    encoding: "utf8",
  }).trim();
  return version;
}

export interface Moto {
  /** `http://127.0.0.1:<port>`: the endpoint of every service. */
  endpoint: string;
  /** The server's own log (request lines and Python tracebacks), for failure messages. */
  log(): string;
  /** Operations moto answered with "The <op> action has not been implemented" so far, snake_case as moto names them. */
  notImplemented(): string[];
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(endpoint: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto's server exited (code ${child.exitCode}) at start:\n${log()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`moto's server did not answer on ${endpoint} within 60 s:\n${log()}`);
}

/**
 * Starts `python -m moto.server` from `.venv` on a free loopback port. AWS managed
 * policies are loaded (`MOTO_IAM_LOAD_MANAGED_POLICIES`), so that attachments of
 * `arn:aws:iam::aws:policy/...` work as in an account.
 */
export async function startMoto(): Promise<Moto> {
  assertVenv();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(VENV_PYTHON, ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, MOTO_IAM_LOAD_MANAGED_POLICIES: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    // Request lines pile up; keep the last 2 MB (tracebacks are what a failure needs).
    if (output.length > 4_000_000) output = output.slice(-2_000_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const log = () => output.slice(-20_000);
  try {
    await waitUntilUp(endpoint, child, log);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    endpoint,
    log,
    notImplemented: () => [
      ...new Set([...output.matchAll(/The (\w+) action has not been implemented/g)].map((m) => m[1])),
    ],
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
