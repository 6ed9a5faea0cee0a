/**
 * moto's server (PyPI moto[server], pinned in tools/python and installed into the
 * repository's .venv by `npm ci`) on a free loopback port: an S3 that enforces
 * conditional writes as AWS does (If-None-Match: * on an existing key: 412), and
 * an SQS. Started and stopped by the test that uses it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { WORKER_ROOT } from "./worker-process.js";

export const MOTO_PYTHON = join(WORKER_ROOT, "..", ".venv", "bin", "python");

export interface Moto {
  endpoint: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startMoto(): Promise<Moto> {
  if (!existsSync(MOTO_PYTHON)) {
    // One line that says what to do: the tests need the project's Python tools.
    throw new Error(`moto's server is missing (${MOTO_PYTHON} not found): run \`npm ci\` at the repository root`);
  }
  const port = await freePort();
  const child: ChildProcess = spawn(MOTO_PYTHON, ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto's server exited (${child.exitCode}): ${stderr}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto's server did not answer on ${endpoint} within 60 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
