/**
 * Wall time of synth-and-diff against one `terraform plan` of the stack, side
 * by side in one run, alternating:
 *
 * - `npm run -s diff -- --base-ref HEAD` end to end (two synths, side by side;
 *   the base's stand-in state; the base's check and the head's plan, side by
 *   side), in a scratch clone of HEAD whose working tree changes the stack (a
 *   longer health check grace period of the API service), so that it plans;
 *   once with the base's stand-in state cached (a second run on the same base:
 *   what a developer and CI meet after the first run) and once made afresh
 *   (`--no-cache`: two more plans);
 * - one plan: `terraform plan -refresh=false` of the stack (HEAD's synth)
 *   against the production state fixture with its tfvars, offline, in an
 *   initialized folder; and `terraform init` + that plan in a fresh folder, as
 *   `cdktf plan` does on a clean runner (the provider comes from the plugin
 *   mirror or cache, not downloaded).
 *
 *   npm run bench:diff [-- --runs 3]
 */
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand, wholeNumber } from "./lib/cli/command.js";
import { runProcessOk } from "./lib/cli/process.js";
import { tempDir } from "./lib/cli/temp.js";
import { PROJECT_ROOT } from "./lib/project.js";
import { loadStack } from "./lib/stack/read.js";
import { synthApp } from "./lib/stack/synth.js";
import { offlineWorkdir } from "./lib/terraform/workdir.js";

const FIXTURES = join(PROJECT_ROOT, "__tests__", "fixtures", "legacy");
const STATE = join(FIXTURES, "prod.tfstate");
const TFVARS = join(FIXTURES, "prod.tfvars");

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
const say = (message: string) => process.stderr.write(`bench:diff: ${message}\n`);

/** A clone of HEAD sharing this checkout's node_modules, its working tree changing the stack. */
async function scratchClone(dir: string): Promise<string> {
  const clone = join(dir, "project");
  await runProcessOk("git", ["clone", "-q", "--shared", PROJECT_ROOT, clone], { what: "git clone" });
  for (const shared of ["node_modules", join("worker-src", "node_modules")]) {
    if (existsSync(join(PROJECT_ROOT, shared))) symlinkSync(join(PROJECT_ROOT, shared), join(clone, shared), "dir");
  }
  const app = join(clone, "main.ts");
  const source = readFileSync(app, "utf8");
  if (source.split("app.synth();").length !== 2) throw new Error("main.ts has no single app.synth() to change before");
  writeFileSync(
    app,
    source.replace(
      "app.synth();",
      'app.node.findChild("compute").addOverride("resource.aws_ecs_service.backend.health_check_grace_period_seconds", 90);\napp.synth();',
    ),
  );
  return clone;
}

runCommand({
  name: "bench:diff",
  summary:
    "Wall time of `npm run -s diff -- --base-ref HEAD` (a change in the working tree; the base's stand-in state cached, and made afresh) against one `terraform plan` of the stack (in an initialized folder, and init + plan), alternating, side by side.",
  usage: ["[--runs N]"],
  options: { runs: { type: "string", value: "N", default: "3", help: "Runs of each." } },
  async run(options) {
    const runs = wholeNumber("runs", options.runs, 1);
    const temp = tempDir("cricksy-bench-diff-");
    try {
      say("cloning HEAD into a scratch folder and synthesizing it");
      const clone = await scratchClone(temp.dir);
      const synth = loadStack(await synthApp(PROJECT_ROOT, join(temp.dir, "cdktf.out")), "compute").file;
      const initialized = await offlineWorkdir({ configFile: synth, stateFile: STATE });
      const npm = (args: string[]) =>
        runProcessOk("npm", ["run", "-s", "diff", "--", "--base-ref", "HEAD", ...args], {
          cwd: clone,
          env: { ...process.env, CHECKPOINT_DISABLE: "1" },
          what: "npm run -s diff",
        }).catch((error: { result?: { code: number } }) => {
          // Exit 2 (changes) is the expected outcome; anything else is a failed benchmark.
          if (error.result?.code !== 2) throw error;
        });
      try {
        await initialized.terraform("init", ["-input=false"]);
        // Fill the stand-in cache once (not timed), so that the cached case is what it says.
        say("one untimed diff to fill the stand-in state cache");
        await npm([]);
        const candidates: { name: string; run: () => Promise<unknown> }[] = [
          { name: "diff --base-ref HEAD (stand-in cached)", run: () => npm([]) },
          { name: "diff --base-ref HEAD --no-cache", run: () => npm(["--no-cache"]) },
          {
            name: "one plan (initialized folder)",
            run: async () => {
              const r = await initialized.plan({ varFile: TFVARS, show: false });
              if (r.code !== 0) throw new Error(`plan failed: ${r.stderr}`);
            },
          },
          {
            name: "one plan (init + plan)",
            run: async () => {
              const fresh = await offlineWorkdir({ configFile: synth, stateFile: STATE });
              try {
                await fresh.terraform("init", ["-input=false"]);
                const r = await fresh.plan({ varFile: TFVARS, show: false });
                if (r.code !== 0) throw new Error(`plan failed: ${r.stderr}`);
              } finally {
                await fresh.dispose();
              }
            },
          },
        ];
        const times = new Map(candidates.map((c) => [c.name, [] as number[]]));
        for (let i = 0; i < runs; i++) {
          for (const candidate of candidates) {
            say(`run ${i + 1}/${runs}: ${candidate.name}`);
            const started = process.hrtime.bigint();
            await candidate.run();
            times.get(candidate.name)?.push(seconds(started));
          }
        }
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        const med = (name: string) => median(times.get(name) ?? [0]);
        console.log(`node ${process.version}, ${runs} runs each, alternating; medians`);
        console.log("what".padEnd(42), "median (s)".padStart(11), "min (s)".padStart(8), "max (s)".padStart(8));
        for (const [name, xs] of times) {
          console.log(
            name.padEnd(42),
            median(xs).toFixed(2).padStart(11),
            Math.min(...xs)
              .toFixed(2)
              .padStart(8),
            Math.max(...xs)
              .toFixed(2)
              .padStart(8),
          );
        }
        const planned = med("one plan (initialized folder)");
        const initPlan = med("one plan (init + plan)");
        for (const name of ["diff --base-ref HEAD (stand-in cached)", "diff --base-ref HEAD --no-cache"]) {
          console.log(
            `${name}: ${(med(name) / planned).toFixed(2)}× one plan in an initialized folder, ${(med(name) / initPlan).toFixed(2)}× init + plan`,
          );
        }
      } finally {
        await initialized.dispose();
      }
    } finally {
      temp.remove();
    }
    return 0;
  },
});
