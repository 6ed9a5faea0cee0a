/**
 * No Docker engine runs here, so the image's recipe is proven in parts:
 * the Dockerfile's stages are read and checked, and the built output runs a job
 * from a clean copy that has only the production dependencies installed.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WORKER_CONTRACT } from "../src/contract.js";
import { type Emulator, startEmulator, waitFor } from "./helpers/emulator.js";
import { makeVideo } from "./helpers/videos.js";
import { startWorker, WORKER_ROOT } from "./helpers/worker-process.js";

const exec = promisify(execFile);

interface Stage {
  from: string;
  name?: string;
  instructions: { op: string; args: string }[];
}

/** The Dockerfile as stages of instructions (continuation lines joined, comments dropped). */
function readStages(text: string): { args: Record<string, string>; stages: Stage[] } {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  const logical = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  for (const line of logical) {
    const [op, ...rest] = line.split(/\s+/);
    const argText = rest.join(" ");
    if (op.toUpperCase() === "FROM") {
      const [image, as, name] = rest;
      stages.push({ from: image, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else if (stages.length === 0 && op.toUpperCase() === "ARG") {
      const [key, value] = argText.split("=");
      args[key] = value;
    } else {
      stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args: argText });
    }
  }
  return { args, stages };
}

describe("Dockerfile", () => {
  const { args, stages } = readStages(readFileSync(join(WORKER_ROOT, "Dockerfile"), "utf8"));
  const stage = (name: string) => stages.find((s) => s.name === name) as Stage;
  const runs = (s: Stage) => s.instructions.filter((i) => i.op === "RUN").map((i) => i.args);
  const final = stages.at(-1) as Stage;

  it("builds in stages from an official Node 24 LTS image", () => {
    expect(stages.map((s) => s.name)).toEqual(["build", "deps", "runtime"]);
    expect(args.NODE_IMAGE).toMatch(/^node:24(\.\d+)*-(bookworm|bullseye|trixie)(-slim)?$/);
    for (const s of stages) expect(s.from).toBe("${NODE_IMAGE}");
  });

  it("compiles in the build stage and installs only production dependencies for the runtime", () => {
    expect(runs(stage("build")).join("\n")).toContain("tsc -p tsconfig.build.json");
    expect(runs(stage("deps"))[0]).toMatch(/^npm ci --omit=dev /);
    const copies = final.instructions.filter((i) => i.op === "COPY").map((i) => i.args);
    expect(copies).toEqual([
      "--from=deps /app/node_modules ./node_modules",
      "--from=build /app/dist ./dist",
      "package.json ./",
    ]);
  });

  it("installs ffmpeg and an init in the runtime, and runs as a non-root user", () => {
    expect(runs(final).join("\n")).toMatch(/apt-get install -y --no-install-recommends ffmpeg tini/);
    const users = final.instructions.filter((i) => i.op === "USER").map((i) => i.args);
    expect(users).toEqual(["node"]);
  });

  it("runs node dist/main.js under tini, so that node itself receives SIGTERM", () => {
    const entrypoint = final.instructions.find((i) => i.op === "ENTRYPOINT")?.args;
    const cmd = final.instructions.find((i) => i.op === "CMD")?.args;
    expect(JSON.parse(entrypoint as string)).toEqual(["/usr/bin/tini", "--"]);
    expect(JSON.parse(cmd as string)).toEqual(["node", "dist/main.js"]);
    expect(final.instructions.find((i) => i.op === "HEALTHCHECK")?.args).toContain(
      '["/usr/local/bin/node", "/app/dist/healthcheck.js"]',
    );
  });

  it("makes the scratch volume and TMPDIR inside it the node user's (Fargate mounts it root-owned otherwise)", () => {
    const { scratchDir, tmpDir } = WORKER_CONTRACT.paths;
    expect(tmpDir.startsWith(`${scratchDir}/`)).toBe(true);
    expect(runs(final)).toContain(`mkdir -p ${tmpDir} && chown -R node:node ${scratchDir}`);
    const env = final.instructions
      .filter((i) => i.op === "ENV")
      .map((i) => i.args)
      .join(" ");
    expect(env).toContain(`${WORKER_CONTRACT.env.tmpDir}=${tmpDir}`);
    expect(final.instructions.filter((i) => i.op === "VOLUME").map((i) => JSON.parse(i.args))).toEqual([[scratchDir]]);
  });

  it("is built for the contract's platform in the documented command", () => {
    const doc = readFileSync(join(WORKER_ROOT, "..", "docs", "worker.md"), "utf8");
    const build = doc.split("\n").filter((l) => l.startsWith("docker build"));
    expect(build.length).toBeGreaterThan(0);
    for (const line of build) expect(line).toContain(`--platform ${WORKER_CONTRACT.platform.docker}`);
  });

  it("keeps tests, benchmarks and local builds out of the build context", () => {
    const ignored = readFileSync(join(WORKER_ROOT, ".dockerignore"), "utf8").split("\n");
    for (const entry of ["node_modules", "dist", "test", "bench"]) expect(ignored).toContain(entry);
  });
});

describe("the built output from a clean copy with production dependencies only", () => {
  let copy: string;
  let emulator: Emulator;
  beforeAll(async () => {
    copy = mkdtempSync(join(tmpdir(), "cricksy-image-"));
    for (const entry of ["package.json", "package-lock.json", "dist", "node_modules"]) {
      cpSync(join(WORKER_ROOT, entry), join(copy, entry), { recursive: true });
    }
    // The tree of the deps stage's `npm ci --omit=dev`, made offline: the lock file's
    // packages minus the dev ones (tests talk to loopback only, never to the registry).
    await exec("npm", ["prune", "--omit=dev", "--ignore-scripts", "--offline", "--no-audit", "--no-fund"], {
      cwd: copy,
    });
    emulator = await startEmulator();
  }, 120_000);
  afterAll(async () => {
    await emulator?.stop();
  });

  it("holds exactly the lock file's production packages", () => {
    const lock = JSON.parse(readFileSync(join(copy, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>;
    };
    const entries = Object.entries(lock.packages).filter(([path]) => path.startsWith("node_modules/"));
    const installed = (path: string) => existsSync(join(copy, path, "package.json"));
    const production = entries.filter(([, p]) => !p.dev && !p.devOptional && !p.optional).map(([path]) => path);
    const development = entries.filter(([, p]) => p.dev).map(([path]) => path);
    expect(production).toContain("node_modules/@aws-sdk/client-sqs");
    expect(production.filter((path) => !installed(path))).toEqual([]);
    expect(development.filter(installed)).toEqual([]);
    for (const dev of ["typescript", "vitest", "fauxqs", "sqs-consumer", "node"]) {
      expect(installed(`node_modules/${dev}`), dev).toBe(false);
    }
    expect(readdirSync(join(copy, "dist"))).toContain("main.js");
  });

  it("runs a job end to end and exits 0 on SIGTERM", async () => {
    const jobId = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
    await emulator.putObject("uploads/clean.mp4", makeVideo({ seconds: 4, width: 320, height: 240, fps: 25 }));
    await emulator.sendJob({ jobId, videoKey: "uploads/clean.mp4" });
    const worker = startWorker(
      { ...emulator.env, WORKER_WAIT_TIME_S: "1", NODE_ENV: "production" },
      { main: join(copy, "dist", "main.js"), cwd: copy },
    );
    await worker.waitForLog((l) => l.msg === "job succeeded", 30_000, "the job");
    expect(await emulator.getJson(`analysis/${jobId}/result.json`)).toMatchObject({ jobId, status: "succeeded" });
    await waitFor(async () => (await emulator.counts()).inFlight === 0, 5000, "the delete");
    expect(await worker.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});
