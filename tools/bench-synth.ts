/**
 * Wall time of a synth, side by side in one run: `cdktf synth` (the CLI, which
 * then runs the app) against the app alone (`tsx main.ts`, what `npm run synth`
 * runs). The first run of each is the cold one; the median is over all runs.
 *
 *   npm run bench:synth [-- --runs 5]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand, wholeNumber } from "./lib/cli/command.js";
import { runProcessOk } from "./lib/cli/process.js";
import { PROJECT_ROOT } from "./lib/project.js";

const bin = (name: string) => join(PROJECT_ROOT, "node_modules", ".bin", name);
const candidates = [
  { name: "cdktf synth (CLI + app)", command: bin("cdktf"), args: (out: string) => ["synth", "--output", out] },
  { name: "app alone (tsx main.ts)", command: bin("tsx"), args: () => ["main.ts"] },
];

async function timeOnce(candidate: (typeof candidates)[number]): Promise<number> {
  const outdir = join(mkdtempSync(join(tmpdir(), "cricksy-bench-")), "cdktf.out");
  const started = process.hrtime.bigint();
  try {
    await runProcessOk(candidate.command, candidate.args(outdir), {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1", CI: "1" },
      what: candidate.name,
    });
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    rmSync(join(outdir, ".."), { recursive: true, force: true });
  }
}

runCommand({
  name: "bench:synth",
  summary: "Wall time of `cdktf synth` against the app alone (`tsx main.ts`), alternating, side by side.",
  usage: ["[--runs N]"],
  options: { runs: { type: "string", value: "N", default: "5", help: "Runs of each." } },
  async run(options) {
    const runs = wholeNumber("runs", options.runs, 1);
    const times = new Map(candidates.map((c) => [c.name, [] as number[]]));
    for (let i = 0; i < runs; i++) {
      for (const candidate of candidates) times.get(candidate.name)?.push(await timeOnce(candidate));
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
    return 0;
  },
});
