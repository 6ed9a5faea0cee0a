/**
 * `npm run baseline`: synthesizes the working tree and writes the stack to
 * baseline/compute.tf.json. CI compares every fresh synth with this committed
 * file, so a change of the generated Terraform shows in the pull request that
 * makes it (with the baseline update beside it).
 *
 *   npm run baseline            write the baseline
 *   npm run baseline -- --check compare only: exit 0 when equal, 2 with the diff otherwise
 */
import { copyFileSync, existsSync } from "node:fs";
import { runCommand } from "./lib/cli/command.js";
import { UsageError } from "./lib/cli/errors.js";
import { render } from "./lib/diff/render.js";
import { diffStacks } from "./lib/diff/stack-diff.js";
import { BASELINE, PROJECT_ROOT } from "./lib/project.js";
import { loadStack } from "./lib/stack/read.js";
import { synthApp } from "./lib/stack/synth.js";

runCommand({
  name: "baseline",
  summary: `Synthesizes the working tree and writes the stack to ${BASELINE}, the committed synth that CI compares every fresh synth with.`,
  usage: ["[--check]"],
  options: {
    check: { type: "boolean", help: "Compare only: exit 0 when equal, 2 with the diff printed otherwise." },
  },
  async run(options) {
    const outdir = await synthApp(PROJECT_ROOT);
    const fresh = loadStack(outdir, "compute");
    if (!options.check) {
      copyFileSync(fresh.file, BASELINE);
      console.log(`baseline: wrote ${BASELINE}; commit it with the change that made it`);
      return 0;
    }
    if (!existsSync(BASELINE)) throw new UsageError(`${BASELINE} is missing: run npm run baseline and commit it`);
    const committed = loadStack(BASELINE);
    const diff = await diffStacks({ source: BASELINE, json: committed.json }, { source: outdir, json: fresh.json });
    if (!diff.summary.changed) {
      console.log("baseline: the synthesized stack matches baseline/compute.tf.json");
      return 0;
    }
    process.stdout.write(render(diff, "text", process.stdout));
    console.error(
      "baseline: the synthesized stack differs from baseline/compute.tf.json (diff above). If the change is intended, run `npm run baseline` and commit baseline/compute.tf.json with it.",
    );
    return 2;
  },
});
