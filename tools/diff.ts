/**
 * synth-and-diff: what a change of the synthesized stack does, with Terraform's
 * verdict per address (a plan of the head against a state in which the base is
 * applied: a stand-in one, offline, or a real one with --state).
 *
 *   npm run -s diff -- <base> <head> [--format text|markdown|json] [--fail-on destroy,security] [--var-file f]
 *   npm run -s diff -- --base-ref <git-ref> [<head>] [...]
 *
 * `npm run -s diff -- --help` lists the options.
 */
import { isAbsolute, join, resolve } from "node:path";
import { runCommand } from "./lib/cli/command.js";
import { UsageError } from "./lib/cli/errors.js";
import { assertExists, readJsonFile } from "./lib/cli/input.js";
import { tempDir } from "./lib/cli/temp.js";
import {
  type ChangeReport,
  changeReport,
  FAIL_KINDS,
  type FailKind,
  failingAddresses,
} from "./lib/diff/change-report.js";
import { FORMATS, type Format, render } from "./lib/diff/render.js";
import { PROJECT_ROOT } from "./lib/project.js";
import { type LoadedStack, loadStack } from "./lib/stack/read.js";
import { synthApp, synthGitRef } from "./lib/stack/synth.js";
import { readStateFile } from "./lib/state/read.js";
import { planChange } from "./lib/terraform/change-plan.js";

/** Exit codes: as `terraform plan -detailed-exitcode` (0, 1, 2), and 3 when a --fail-on gate trips. */
const EXIT = { noChange: 0, error: 1, changes: 2, gate: 3 } as const;

/** A report saved with `--format json`, or one clear line. */
function readReport(file: string): ChangeReport {
  const json = readJsonFile(file) as Partial<ChangeReport> | null;
  if (!json || typeof json !== "object" || !Array.isArray(json.resources) || !json.summary || !json.verdicts) {
    throw new UsageError(`${file} is not a diff report: give what npm run -s diff -- ... --format json wrote`);
  }
  return json as ChangeReport;
}

/** Writes the report and returns the exit code its gates give. */
function finish(report: ChangeReport, format: Format, failOn: FailKind[]): number {
  process.stdout.write(render(report, format, process.stdout));
  const failed = failOn.filter((kind) => FAIL_KINDS[kind](report) > 0);
  if (failed.length) {
    const named = failed.flatMap((kind) => failingAddresses(report, kind));
    process.stderr.write(
      `diff: failing on ${failed.join(", ")} (--fail-on ${failOn.join(",")})${named.length ? `: ${named.join(", ")}` : ""}\n`,
    );
    return EXIT.gate;
  }
  return report.summary.changed ? EXIT.changes : EXIT.noChange;
}

runCommand({
  name: "diff",
  summary:
    "What a change of the synthesized stack does, resource by resource, as Terraform plans it: the head is planned (offline, -refresh=false) against a state in which the base is applied (a stand-in state that the base plans No changes against, or a real one with --state). <base> and <head> are a cdk.tf.json or a cdktf.out folder; with --base-ref the base is that commit synthesized in a temporary git worktree, and the head (when not given) a fresh synth of the working tree.",
  usage: [
    "<base> <head> [options]",
    "--base-ref <git-ref> [<head>] [options]",
    "--report <report.json> [--format ...] [--fail-on ...]",
  ],
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
      help: "Exit 3 when the change holds one of these: destroy (a replace or delete, not a task definition's new revision), stateful (one that loses data), address (a rename without a moved block), backend, security, any.",
    },
    "base-ref": { type: "string", value: "git-ref", help: "Synthesize this commit as the base." },
    stack: { type: "string", value: "name", help: "The stack of a cdktf.out folder that holds several." },
    "var-file": {
      type: "string",
      value: "file",
      multiple: true,
      help: "A tfvars file for the plans, as Terraform takes it (variables without a value get stand-ins).",
    },
    report: {
      type: "string",
      value: "file",
      help: "Render and gate a report saved with --format json (no synth, no plan): one plan, many outputs.",
    },
    "no-cache": {
      type: "boolean",
      help: "Make the base's stand-in state afresh (it is cached per base, inputs and provider build).",
    },
    state: {
      type: "string",
      value: "file",
      help: "Plan against this state (`terraform state pull`) instead of a stand-in for the base; the base is planned against it too, to tell what the change does from what is pending already.",
    },
  },
  details:
    "Exit codes: 0 no change, 2 changes (no --fail-on kind among them), 3 a --fail-on kind present, 1 an error (bad input, Terraform failed). Terraform >= 1.9 and the AWS provider (from the filesystem mirror or the registry) are needed; no cloud credentials.",
  async run(options, positionals) {
    if (options.report) {
      if (positionals.length || options["base-ref"] || options.state || options["var-file"].length) {
        throw new UsageError(
          "--report takes no base, head, --base-ref, --state or --var-file: it reads a saved report",
        );
      }
      return finish(readReport(options.report), options.format as Format, options["fail-on"] as FailKind[]);
    }
    const varFiles = options["var-file"].map((f) => {
      assertExists(f);
      return isAbsolute(f) ? f : resolve(f);
    });
    if (options.state) readStateFile(options.state);
    const temp = tempDir("cricksy-diff-synth-");
    try {
      let base: LoadedStack;
      let head: LoadedStack;
      let baseLabel: string | undefined;
      let headLabel: string | undefined;
      const progress = process.stderr.isTTY
        ? (message: string) => process.stderr.write(`diff: ${message}…\n`)
        : () => {};
      if (options["base-ref"]) {
        if (positionals.length > 1) {
          throw new UsageError(
            "with --base-ref, give at most a head; usage: npm run -s diff -- --base-ref <git-ref> [<head>]",
          );
        }
        progress(`synthesizing ${options["base-ref"]}${positionals[0] ? "" : " and the working tree"}`);
        // The two synths side by side.
        const [basePath, headPath] = await Promise.all([
          synthGitRef(options["base-ref"], PROJECT_ROOT, join(temp.dir, "base", "cdktf.out")),
          positionals[0] ?? synthApp(PROJECT_ROOT, join(temp.dir, "cdktf.out")),
        ]);
        baseLabel = `${options["base-ref"]} (synthesized)`;
        if (!positionals[0]) headLabel = "working tree (synthesized)";
        base = loadStack(basePath, options.stack);
        head = loadStack(headPath, options.stack);
      } else {
        if (positionals.length !== 2)
          throw new UsageError("usage: npm run -s diff -- <base> <head> [options] (see --help)");
        base = loadStack(positionals[0], options.stack);
        head = loadStack(positionals[1], options.stack);
      }
      const sides = {
        base: { source: baseLabel ?? base.source, json: base.json },
        head: { source: headLabel ?? head.source, json: head.json },
      };
      // Two identical synths need no plan (against a real state they may: drift, pending changes).
      const identical = JSON.stringify(base.json) === JSON.stringify(head.json) && !options.state;
      const plan = identical
        ? undefined
        : await planChange({
            base: { json: base.json, label: sides.base.source },
            head: { json: head.json, label: sides.head.source },
            varFiles,
            stateFile: options.state,
            progress,
            cache: !options["no-cache"],
          });
      const report = await changeReport(sides, plan, options.state);
      return finish(report, options.format as Format, options["fail-on"] as FailKind[]);
    } finally {
      temp.remove();
    }
  },
});
