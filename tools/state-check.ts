/**
 * State inspection: does the synthesized configuration cover every object of a
 * real state? From a state file alone, without cloud credentials.
 *
 *   npm run -s state:check -- --state <file> [--synth <cdk.tf.json|cdktf.out>] [--format text|json]
 *   npm run -s state:check -- --state <file> --plan --var-file <tfvars> [--var name=value]
 *
 * Static mode compares addresses: what the state has that the configuration
 * lacks (Terraform would destroy it), type mismatches, what would be created,
 * and for a destroyed-and-created pair of one type the `moved` block (and the
 * cdktf call) that keeps the object. --plan runs `terraform plan -refresh=false`
 * offline against the state and reports Terraform's own verdict per address.
 *
 * Exit 0 when the state is fully covered (no object destroyed; a task definition
 * replaced by a new revision does not count), 2 otherwise, 1 on bad input.
 */
import { runCommand } from "./lib/cli/command.js";
import { ToolError, UsageError } from "./lib/cli/errors.js";
import { diffValues } from "./lib/diff/values.js";
import { PROJECT_ROOT } from "./lib/project.js";
import { loadStack } from "./lib/stack/read.js";
import { withSynth } from "./lib/stack/synth.js";
import { type Coverage, coverage } from "./lib/state/coverage.js";
import { readStateFile, stateAccountId } from "./lib/state/read.js";
import { destroysObject, REPLACED_BY_DESIGN, type ResourceChange, verdict } from "./lib/terraform/plan.js";
import { offlineWorkdir } from "./lib/terraform/workdir.js";

function staticReport(state: string, synth: string, c: Coverage): string[] {
  const lines = [`State check: ${state} against ${synth}`, ""];
  const managed = c.kept.length + c.destroyed.length;
  lines.push(`Covered: ${c.kept.length} of ${managed} managed resources of the state are in the configuration.`);
  if (c.destroyed.length) {
    lines.push(
      "",
      "Would be destroyed (in the state, not in the configuration):",
      ...c.destroyed.map((a) => `  - ${a}`),
    );
  }
  if (c.typeMismatches.length) {
    lines.push(
      "",
      "Type mismatches (same name, another type: Terraform cannot move between these):",
      ...c.typeMismatches.map((m) => `  ! ${m.state} in the state, ${m.configuration} in the configuration`),
    );
  }
  if (c.created.length) {
    lines.push("", "Would be created (in the configuration, not in the state):", ...c.created.map((a) => `  + ${a}`));
  }
  if (c.moves.length) {
    lines.push("", "Proposed moves (keep the object instead of destroying it and creating a new one):");
    for (const m of c.moves) {
      lines.push(
        `  ${m.from} → ${m.to}`,
        `    HCL:   moved { from = ${m.from}  to = ${m.to} }`,
        `    cdktf: <the ${m.type} made at ${m.constructPath ?? m.to}>.moveFromId("${m.from}")`,
        `           or keep the old address: pin(<that resource>, "${m.from.split(".").at(-1)}")`,
      );
    }
  }
  if (c.staleData.length) {
    lines.push(
      "",
      "Data sources only in the state (read again at the next plan, never destroyed):",
      ...c.staleData.map((a) => `  · ${a}`),
    );
  }
  return lines;
}

function planReport(changes: ResourceChange[], outputs: Record<string, { actions: string[] }>): string[] {
  const lines = ["", "Terraform plan (-refresh=false, offline) against the state:"];
  for (const rc of changes) {
    if (rc.mode === "data") continue;
    const said = verdict(rc);
    lines.push(`  ${said.padEnd(8)} ${rc.address}`);
    if (said === "update" || said === "replace") {
      const changed = diffValues(rc.change.before ?? {}, rc.change.after ?? {}).map((c) => c.path.split(/[.[]/)[0]);
      const unknown = Object.entries((rc.change.after_unknown ?? {}) as Record<string, unknown>)
        .filter(([, v]) => v === true)
        .map(([k]) => k);
      const attributes = [...new Set([...changed, ...unknown])].sort();
      if (attributes.length) lines.push(`           changes: ${attributes.join(", ")}`);
    }
    if (said === "replace") {
      const forced = [...new Set((rc.change.replace_paths ?? []).map((p) => String(p[0])))].sort();
      lines.push(`           forced by: ${forced.join(", ") || "(Terraform did not say)"}`);
      if (REPLACED_BY_DESIGN.has(rc.type)) {
        // Terraform destroys the replaced object with its prior state's arguments: the state's
        // skip_destroy, not the configuration's, decides whether the old revision stays ACTIVE.
        const kept = (rc.change.before as { skip_destroy?: unknown } | null)?.skip_destroy === true;
        lines.push(
          kept
            ? "           (a new revision: how ECS deploys; the old one stays registered: skip_destroy in the state)"
            : "           (a new revision: how ECS deploys; the old one is deregistered (INACTIVE): the state has no skip_destroy)",
        );
      }
    }
  }
  const changedOutputs = Object.entries(outputs).filter(([, o]) => o.actions.join() !== "no-op");
  if (changedOutputs.length) lines.push(`  outputs that change: ${changedOutputs.map(([k]) => k).join(", ")}`);
  return lines;
}

runCommand({
  name: "state:check",
  summary:
    "Does the synthesized configuration cover every object of a real state? Static mode compares addresses (what Terraform would destroy or create, type mismatches, the moved blocks that keep an object); --plan runs `terraform plan -refresh=false` offline against the state and reports Terraform's own verdict per address. No cloud credentials needed.",
  usage: [
    "--state <terraform.tfstate> [--synth <cdk.tf.json|cdktf.out>] [--format text|json]",
    "--state <terraform.tfstate> --plan --var-file <tfvars> [--var name=value ...]",
  ],
  options: {
    state: { type: "string", value: "file", required: true, help: "The state, as `terraform state pull` writes it." },
    synth: {
      type: "string",
      value: "cdk.tf.json|cdktf.out",
      help: "The synth to check. Default: a fresh synth of the working tree.",
    },
    stack: { type: "string", value: "name", help: "The stack of a cdktf.out folder that holds several." },
    plan: { type: "boolean", help: "Also plan offline against the state (needs the inputs: --var-file, --var)." },
    "var-file": { type: "string", value: "file", multiple: true, help: "A tfvars file for --plan." },
    var: { type: "string", value: "name=value", multiple: true, help: "A variable for --plan." },
    format: { type: "string", choices: ["text", "json"], default: "text", help: "Output format." },
  },
  details:
    "Exit 0 when the state is fully covered (no object destroyed; a task definition replaced by a new revision does not count), 2 otherwise, 1 on bad input.",
  async run(options) {
    if (!options.plan && (options["var-file"].length || options.var.length)) {
      throw new UsageError("--var-file and --var only apply with --plan");
    }
    const vars: Record<string, string> = {};
    for (const pair of options.var) {
      const at = pair.indexOf("=");
      if (at < 1) throw new UsageError(`--var takes name=value, got "${pair}"`);
      vars[pair.slice(0, at)] = pair.slice(at + 1);
    }
    const state = readStateFile(options.state);
    const check = async (synthPath: string) => {
      const stack = loadStack(synthPath, options.stack);
      const report = coverage(state, stack.json);
      if (!options.plan) return { report, covered: report.covered, planned: undefined };
      const workdir = await offlineWorkdir({
        configFile: stack.file,
        stateFile: options.state,
        accountId: stateAccountId(state),
      });
      try {
        const varFiles = options["var-file"].map((f) => (f.startsWith("/") ? f : `${process.cwd()}/${f}`));
        const result = await workdir.plan({ varFiles, vars });
        if (result.code !== 0 || !result.json) {
          throw new ToolError(`terraform plan failed:\n${(result.stderr || result.stdout).trim()}`);
        }
        const changes = result.json.resource_changes ?? [];
        return {
          report,
          covered: !changes.some((rc) => destroysObject(rc)),
          planned: { changes, outputs: result.json.output_changes ?? {} },
        };
      } finally {
        await workdir.dispose();
      }
    };
    const synthLabel = options.synth ?? "the working tree (synthesized)";
    const { report, covered, planned } = options.synth
      ? await check(options.synth)
      : await withSynth(PROJECT_ROOT, check);

    if (options.format === "json") {
      const verdicts = planned?.changes
        .filter((rc) => rc.mode === "managed")
        .map((rc) => ({ address: rc.address, verdict: verdict(rc), replacePaths: rc.change.replace_paths }));
      process.stdout.write(
        `${JSON.stringify({ state: options.state, synth: synthLabel, ...report, plan: verdicts, covered }, null, 2)}\n`,
      );
    } else {
      const lines = staticReport(options.state, synthLabel, report);
      if (planned) lines.push(...planReport(planned.changes, planned.outputs));
      lines.push(
        "",
        covered
          ? "Result: covered — every object in the state is kept."
          : "Result: NOT covered — the configuration would destroy objects of the state (see above).",
      );
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    return covered ? 0 : 2;
  },
});
