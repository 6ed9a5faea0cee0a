/**
 * The worker as the applied task definition runs it: its container's environment
 * read from the Terraform state, its secrets resolved through Secrets Manager (as
 * the ECS agent does), its volumes' mount points given local folders, and the
 * built `worker-src/dist/main.js` started on Node 24 with that environment, the
 * AWS endpoints pointed at the emulator and dummy credentials.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { PROJECT_ROOT } from "../../tools/lib/project.js";
import { type AwsClients, DUMMY_CREDENTIALS } from "./aws-clients.js";
import type { StateFile } from "./fixtures.js";

export const WORKER_MAIN = join(PROJECT_ROOT, "worker-src", "dist", "main.js");
/** The worker's own Node (24), installed by worker-src's npm ci. */
export const WORKER_NODE = join(PROJECT_ROOT, "worker-src", "node_modules", ".bin", "node");

interface ContainerDefinition {
  name: string;
  image: string;
  environment?: { name: string; value: string }[];
  secrets?: { name: string; valueFrom: string }[];
  mountPoints?: { sourceVolume: string; containerPath: string }[];
}

/** The container definitions of a task definition in the state. */
export function containerDefinitions(state: StateFile, address: string): ContainerDefinition[] {
  const [type, name] = address.split(".");
  const resource = state.resources.find((r) => r.mode === "managed" && r.type === type && r.name === name);
  const raw = resource?.instances[0]?.attributes?.container_definitions;
  if (typeof raw !== "string") throw new Error(`${address} is not in the state, or has no container_definitions`);
  return JSON.parse(raw) as ContainerDefinition[];
}

export interface TaskEnvironment {
  /** The variables as the container gets them, secrets resolved, paths under mount points moved to local folders. */
  env: Record<string, string>;
  /** containerPath → local folder. */
  mounts: Record<string, string>;
}

/**
 * The container's environment: `environment`, then `secrets` (GetSecretValue of each
 * valueFrom), with every value that is a path under a mount point's containerPath
 * moved to that mount's local folder (the container's writable volumes).
 */
export async function taskEnvironment(container: ContainerDefinition, aws: AwsClients): Promise<TaskEnvironment> {
  const root = mkdtempSync(join(tmpdir(), "cricksy-applied-worker-"));
  const mounts: Record<string, string> = {};
  for (const mount of container.mountPoints ?? []) {
    mounts[mount.containerPath] = join(root, mount.sourceVolume);
    mkdirSync(mounts[mount.containerPath], { recursive: true });
  }
  const relocate = (value: string) => {
    for (const [path, local] of Object.entries(mounts)) {
      if (value === path || value.startsWith(`${path}/`)) return local + value.slice(path.length);
    }
    return value;
  };
  const env: Record<string, string> = {};
  for (const { name, value } of container.environment ?? []) env[name] = relocate(value);
  for (const { name, valueFrom } of container.secrets ?? []) {
    const secret = await aws.secrets.send(new GetSecretValueCommand({ SecretId: valueFrom }));
    if (secret.SecretString === undefined) throw new Error(`secret ${valueFrom} (${name}) has no string value`);
    env[name] = secret.SecretString;
  }
  return { env, mounts };
}

export interface RunningWorker {
  child: ChildProcess;
  /** The JSON log lines so far. */
  lines: Record<string, unknown>[];
  /** Everything else it printed. */
  other: string[];
  stop(): Promise<number | null>;
}

/** Starts the built worker with the task's environment, the emulator as its AWS and nothing of this process's. */
export function startWorker(
  task: TaskEnvironment,
  endpoint: string,
  extra: Record<string, string> = {},
): RunningWorker {
  const child = spawn(WORKER_NODE, [WORKER_MAIN], {
    cwd: join(PROJECT_ROOT, "worker-src"),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...task.env,
      AWS_ENDPOINT_URL_SQS: endpoint,
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
      ...extra,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  const other: string[] = [];
  let buffer = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    let index = buffer.indexOf("\n");
    while (index >= 0) {
      const line = buffer.slice(0, index);
      buffer = buffer.slice(index + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        if (line.trim()) other.push(line);
      }
      index = buffer.indexOf("\n");
    }
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => other.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    other,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
