/**
 * synth-and-diff: what a change of the synthesized stack does.
 *
 *   npm run -s diff -- <base> <head> [--format text|markdown|json] [--fail-on destroy,security]
 *   npm run -s diff -- --base-ref <git-ref> [<head>] [...]
 *
 * <base>, <head>: a cdk.tf.json or a cdktf.out folder. With --base-ref, the base
 * is that commit synthesized in a temporary worktree, and the head (when not
 * given) a fresh synth of the working tree.
 *
 * Exit codes as `terraform plan -detailed-exitcode`: 0 no change, 2 changes,
 * 1 error or a --fail-on kind present.
 */
import { parseArgs } from "node:util";
import { runCli } from "./lib/cli.js";
import { type Format, render } from "./lib/render.js";
import { diffStacks, type StackDiff } from "./lib/stack-diff.js";
import { loadStack, UsageError } from "./lib/stack-json.js";
import { synthApp, synthGitRef } from "./lib/synth.js";
import { PROJECT_ROOT } from "./lib/terraform.js";

export const FAIL_KINDS: Record<string, (d: StackDiff) => number> = {
  destroy: (d) => d.summary.destroy,
  stateful: (d) => d.summary.statefulDestroy,
  address: (d) => d.summary.addressChanges,
  backend: (d) => (d.summary.backendChanged ? 1 : 0),
  security: (d) => d.summary.security,
  any: (d) => (d.summary.changed ? 1 : 0),
};

const USAGE =
  "usage: npm run -s diff -- (<base> | --base-ref <git-ref>) [<head>] [--format text|markdown|json] [--fail-on destroy,security,...] [--stack <name>]";

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: "string", default: "text" },
      "fail-on": { type: "string", default: "" },
      "base-ref": { type: "string" },
      stack: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const format = values.format as Format;
  if (!["text", "markdown", "json"].includes(format)) {
    throw new UsageError(`--format must be text, markdown or json, got "${values.format}"`);
  }
  const failOn = (values["fail-on"] as string)
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  for (const kind of failOn) {
    if (!FAIL_KINDS[kind]) throw new UsageError(`--fail-on takes ${Object.keys(FAIL_KINDS).join(", ")}; got "${kind}"`);
  }

  let basePath: string;
  let headPath: string;
  let baseLabel: string | undefined;
  let headLabel: string | undefined;
  if (values["base-ref"]) {
    if (positionals.length > 1) throw new UsageError(`with --base-ref, give at most a head; ${USAGE}`);
    basePath = await synthGitRef(values["base-ref"], PROJECT_ROOT);
    baseLabel = `${values["base-ref"]} (synthesized)`;
    if (positionals[0]) headPath = positionals[0];
    else {
      headPath = await synthApp(PROJECT_ROOT);
      headLabel = "working tree (synthesized)";
    }
  } else {
    if (positionals.length !== 2) throw new UsageError(USAGE);
    [basePath, headPath] = positionals;
  }
  const base = loadStack(basePath, values.stack);
  const head = loadStack(headPath, values.stack);
  const diff = diffStacks(
    { source: baseLabel ?? base.source, json: base.json },
    { source: headLabel ?? head.source, json: head.json },
  );
  const colour = format === "text" && process.stdout.isTTY === true && !process.env.NO_COLOR;
  process.stdout.write(render(diff, format, colour));

  const failed = failOn.filter((kind) => FAIL_KINDS[kind](diff) > 0);
  if (failed.length) {
    process.stderr.write(`diff: failing on ${failed.join(", ")} (--fail-on ${failOn.join(",")})\n`);
    return 1;
  }
  return diff.summary.changed ? 2 : 0;
}

runCli("diff", main);
