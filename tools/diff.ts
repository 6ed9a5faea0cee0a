/**
 * synth-and-diff: what a change of the synthesized stack does.
 *
 *   npm run -s diff -- <base> <head> [--format text|markdown|json] [--fail-on destroy,security]
 *   npm run -s diff -- --base-ref <git-ref> [<head>] [...]
 *
 * `npm run -s diff -- --help` lists the options.
 */

import { runCommand } from "./lib/cli/command.js";
import { UsageError } from "./lib/cli/errors.js";
import { FORMATS, render } from "./lib/diff/render.js";
import { diffStacks, FAIL_KINDS, type FailKind } from "./lib/diff/stack-diff.js";
import { PROJECT_ROOT } from "./lib/project.js";
import { loadStack } from "./lib/stack/read.js";
import { synthApp, synthGitRef } from "./lib/stack/synth.js";

runCommand({
  name: "diff",
  summary:
    "What a change of the synthesized stack does, resource by resource, with a security section. <base> and <head> are a cdk.tf.json or a cdktf.out folder; with --base-ref the base is that commit synthesized in a temporary git worktree, and the head (when not given) a fresh synth of the working tree.",
  usage: ["<base> <head> [options]", "--base-ref <git-ref> [<head>] [options]"],
  positionals: { min: 0, max: 2 },
  options: {
    format: {
      type: "string",
      choices: FORMATS,
      default: "text",
      help: "Output format (text is coloured on a terminal).",
    },
    "fail-on": {
      type: "list",
      value: "kind",
      choices: Object.keys(FAIL_KINDS),
      help: "Exit 1 when the diff holds a change of these kinds.",
    },
    "base-ref": { type: "string", value: "git-ref", help: "Synthesize this commit as the base." },
    stack: { type: "string", value: "name", help: "The stack of a cdktf.out folder that holds several." },
  },
  details:
    "Exit codes as `terraform plan -detailed-exitcode`: 0 no change, 2 changes, 1 an error or a --fail-on kind present.",
  async run(options, positionals) {
    let basePath: string;
    let headPath: string;
    let baseLabel: string | undefined;
    let headLabel: string | undefined;
    if (options["base-ref"]) {
      if (positionals.length > 1) {
        throw new UsageError(
          "with --base-ref, give at most a head; usage: npm run -s diff -- --base-ref <git-ref> [<head>]",
        );
      }
      basePath = await synthGitRef(options["base-ref"], PROJECT_ROOT);
      baseLabel = `${options["base-ref"]} (synthesized)`;
      if (positionals[0]) headPath = positionals[0];
      else {
        headPath = await synthApp(PROJECT_ROOT);
        headLabel = "working tree (synthesized)";
      }
    } else {
      if (positionals.length !== 2)
        throw new UsageError("usage: npm run -s diff -- <base> <head> [options] (see --help)");
      [basePath, headPath] = positionals;
    }
    const base = loadStack(basePath, options.stack);
    const head = loadStack(headPath, options.stack);
    const diff = await diffStacks(
      { source: baseLabel ?? base.source, json: base.json },
      { source: headLabel ?? head.source, json: head.json },
    );
    process.stdout.write(render(diff, options.format as (typeof FORMATS)[number], process.stdout));

    const failOn = options["fail-on"] as FailKind[];
    const failed = failOn.filter((kind) => FAIL_KINDS[kind](diff) > 0);
    if (failed.length) {
      process.stderr.write(`diff: failing on ${failed.join(", ")} (--fail-on ${failOn.join(",")})\n`);
      return 1;
    }
    return diff.summary.changed ? 2 : 0;
  },
});
