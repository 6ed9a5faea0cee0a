/**
 * `npm run baseline`: synthesizes the working tree and writes the stack to
 * baseline/compute.tf.json. CI compares every fresh synth with this committed
 * file, so a change of the generated Terraform shows in the pull request that
 * makes it (with the baseline update beside it).
 *
 *   npm run baseline            write the baseline
 *   npm run baseline -- --check compare only: exit 0 when equal (byte for byte), 2 otherwise
 */
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { runCommand } from "./lib/cli/command.js";
import { UsageError } from "./lib/cli/errors.js";
import { diffStacks } from "./lib/diff/stack-diff.js";
import { BASELINE, PROJECT_ROOT } from "./lib/project.js";
import { loadStack } from "./lib/stack/read.js";
import { withSynth } from "./lib/stack/synth.js";

runCommand({
  name: "baseline",
  summary: `Synthesizes the working tree and writes the stack to ${BASELINE}, the committed synth that CI compares every fresh synth with.`,
  usage: ["[--check]"],
  options: {
    check: {
      type: "boolean",
      help: "Compare only: exit 0 when equal byte for byte, 2 (naming what differs) otherwise.",
    },
  },
  details: "What a difference does to the infrastructure: npm run -s diff -- baseline/compute.tf.json cdktf.out",
  async run(options) {
    return withSynth(PROJECT_ROOT, async (outdir) => {
      const fresh = loadStack(outdir, "compute");
      if (!options.check) {
        copyFileSync(fresh.file, BASELINE);
        console.log(`baseline: wrote ${BASELINE}; commit it with the change that made it`);
        return 0;
      }
      if (!existsSync(BASELINE)) throw new UsageError(`${BASELINE} is missing: run npm run baseline and commit it`);
      if (readFileSync(BASELINE, "utf8") === readFileSync(fresh.file, "utf8")) {
        console.log("baseline: the synthesized stack matches baseline/compute.tf.json");
        return 0;
      }
      const diff = await diffStacks({ source: BASELINE, json: loadStack(BASELINE).json }, fresh);
      const changed = [
        ...diff.resources.map((r) => `${r.action} ${r.address}`),
        ...[...diff.variables, ...diff.outputs, ...diff.providers, ...diff.locals].map((c) => `${c.action} ${c.name}`),
        ...(diff.backend ? ["update backend"] : []),
      ];
      console.log(
        changed.length
          ? `baseline: differs from the synth in ${changed.join(", ")}`
          : "baseline: differs from the synth in layout only (the same blocks and values)",
      );
      console.error(
        "baseline: the synthesized stack differs from baseline/compute.tf.json. What it does: npm run -s diff -- baseline/compute.tf.json cdktf.out. If the change is intended, run `npm run baseline` and commit baseline/compute.tf.json with it.",
      );
      return 2;
    });
  },
});
