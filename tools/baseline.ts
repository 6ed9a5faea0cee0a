/**
 * `npm run baseline`: synthesizes the working tree and writes the stack to
 * baseline/compute.tf.json. CI compares every fresh synth with this committed
 * file, so a change of the generated Terraform shows in the pull request that
 * makes it (with the baseline update beside it).
 *
 *   npm run baseline            write the baseline
 *   npm run baseline -- --check compare only: exit 0 when equal, 2 with the diff otherwise
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "./lib/cli.js";
import { loadStack } from "./lib/stack-json.js";
import { synthApp } from "./lib/synth.js";
import { PROJECT_ROOT } from "./lib/terraform.js";

export const BASELINE = join(PROJECT_ROOT, "baseline", "compute.tf.json");

async function main(): Promise<number> {
  const outdir = await synthApp(PROJECT_ROOT);
  const fresh = loadStack(outdir, "compute");
  if (!process.argv.includes("--check")) {
    copyFileSync(fresh.file, BASELINE);
    console.log(`baseline: wrote ${BASELINE}; commit it with the change that made it`);
    return 0;
  }
  if (!existsSync(BASELINE)) {
    console.error(`baseline: ${BASELINE} is missing: run npm run baseline and commit it`);
    return 1;
  }
  try {
    execFileSync(
      join(PROJECT_ROOT, "node_modules", ".bin", "tsx"),
      [join(PROJECT_ROOT, "tools", "diff.ts"), BASELINE, outdir],
      {
        stdio: "inherit",
      },
    );
    console.log("baseline: the synthesized stack matches baseline/compute.tf.json");
    return 0;
  } catch (error) {
    const status = (error as { status?: number }).status ?? 1;
    if (status === 2) {
      console.error(
        "baseline: the synthesized stack differs from baseline/compute.tf.json (diff above). If the change is intended, run `npm run baseline` and commit baseline/compute.tf.json with it.",
      );
    }
    return status;
  }
}

runCli("baseline", main);
