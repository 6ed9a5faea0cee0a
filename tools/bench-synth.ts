/**
 * Wall time of a synth, side by side in one run: `cdktf synth` (the CLI, which
 * then runs the app) against the app alone (`tsx main.ts`, what `npm run synth`
 * runs). The first run of each is the cold one; the median is over all runs.
 *
 *   npm run bench:synth [-- --runs 5]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const runsFlag = process.argv.indexOf("--runs");
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 5;
if (!Number.isInteger(runs) || runs < 1) {
  console.error("--runs needs a whole number >= 1");
  process.exit(1);
}

const bin = (name: string) => join(root, "node_modules", ".bin", name);
const candidates = [
  { name: "cdktf synth (CLI + app)", command: bin("cdktf"), args: ["synth", "--output"] },
  { name: "app alone (tsx main.ts)", command: bin("tsx"), args: ["main.ts"] },
];

function timeOnce(candidate: (typeof candidates)[number]): number {
  const outdir = join(mkdtempSync(join(tmpdir(), "cricksy-bench-")), "cdktf.out");
  const args = candidate.args.at(-1) === "--output" ? [...candidate.args, outdir] : candidate.args;
  const started = process.hrtime.bigint();
  const result = spawnSync(candidate.command, args, {
    cwd: root,
    env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1", CI: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rmSync(join(outdir, ".."), { recursive: true, force: true });
  if (result.status !== 0) throw new Error(`${candidate.name} failed: ${result.stderr}`);
  return seconds;
}

const times = new Map(candidates.map((c) => [c.name, [] as number[]]));
for (let i = 0; i < runs; i++) {
  for (const candidate of candidates) times.get(candidate.name)?.push(timeOnce(candidate));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`node ${process.version}, ${runs} runs each, alternating`);
console.log("what".padEnd(28), "cold (s)".padStart(9), "median (s)".padStart(11), "min (s)".padStart(8));
for (const [name, xs] of times) {
  console.log(
    name.padEnd(28),
    xs[0].toFixed(2).padStart(9),
    median(xs).toFixed(2).padStart(11),
    Math.min(...xs)
      .toFixed(2)
      .padStart(8),
  );
}
