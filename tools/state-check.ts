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
import { parseArgs } from "node:util";
import { runCli } from "./lib/cli.js";
import { loadStack, type StackJson, UsageError } from "./lib/stack-json.js";
import { type Coverage, coverage, readStateFile, type StateFile } from "./lib/state.js";
import { diffValues } from "./lib/structural-diff.js";
import { synthApp } from "./lib/synth.js";
import { offlineWorkdir, PROJECT_ROOT, plan, type ResourceChange } from "./lib/terraform.js";

const USAGE =
  "usage: npm run -s state:check -- --state <terraform.tfstate> [--synth <cdk.tf.json|cdktf.out>] [--plan --var-file <tfvars> ...] [--format text|json]";

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

/**
 * Types whose replacement is the normal way they change: an ECS task definition
 * gets a new revision (the old one is kept with skip_destroy), nothing is lost.
 */
const REPLACED_BY_DESIGN = new Set(["aws_ecs_task_definition"]);

/** The plan deletes the object: a delete, or a replace of a type that is not replaced by design. */
function destroysObject(rc: ResourceChange): boolean {
  if (rc.mode !== "managed" || !rc.change.actions.includes("delete")) return false;
  return !(rc.change.actions.includes("create") && REPLACED_BY_DESIGN.has(rc.type));
}

const VERDICT: Record<string, string> = {
  "no-op": "no-op",
  create: "create",
  update: "update",
  delete: "delete",
  "delete,create": "replace",
  "create,delete": "replace",
  read: "read",
};

function planReport(changes: ResourceChange[], outputs: Record<string, { actions: string[] }>): string[] {
  const lines = ["", "Terraform plan (-refresh=false, offline) against the state:"];
  for (const rc of changes) {
    if (rc.mode === "data") continue;
    const verdict = VERDICT[rc.change.actions.join(",")] ?? rc.change.actions.join("+");
    lines.push(`  ${verdict.padEnd(8)} ${rc.address}`);
    if (verdict === "update" || verdict === "replace") {
      const changed = diffValues(rc.change.before ?? {}, rc.change.after ?? {}).map((c) => c.path.split(/[.[]/)[0]);
      const unknown = Object.entries((rc.change.after_unknown ?? {}) as Record<string, unknown>)
        .filter(([, v]) => v === true)
        .map(([k]) => k);
      const attributes = [...new Set([...changed, ...unknown])].sort();
      if (attributes.length) lines.push(`           changes: ${attributes.join(", ")}`);
    }
    if (verdict === "replace") {
      const forced = [...new Set((rc.change.replace_paths ?? []).map((p) => String(p[0])))].sort();
      lines.push(`           forced by: ${forced.join(", ") || "(Terraform did not say)"}`);
      if (REPLACED_BY_DESIGN.has(rc.type))
        lines.push("           (a new revision: how ECS deploys; the old one stays registered)");
    }
  }
  const changedOutputs = Object.entries(outputs).filter(([, o]) => o.actions.join() !== "no-op");
  if (changedOutputs.length) lines.push(`  outputs that change: ${changedOutputs.map(([k]) => k).join(", ")}`);
  return lines;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      state: { type: "string" },
      synth: { type: "string" },
      stack: { type: "string" },
      plan: { type: "boolean", default: false },
      "var-file": { type: "string", multiple: true, default: [] },
      var: { type: "string", multiple: true, default: [] },
      format: { type: "string", default: "text" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"; ${USAGE}`);
  if (!values.state) throw new UsageError(`--state is required; ${USAGE}`);
  if (!["text", "json"].includes(values.format as string)) {
    throw new UsageError(`--format must be text or json, got "${values.format}"`);
  }
  if (!values.plan && (values["var-file"]?.length || values.var?.length)) {
    throw new UsageError("--var-file and --var only apply with --plan");
  }
  const state: StateFile = readStateFile(values.state);
  const synthPath = values.synth ?? (await synthApp(PROJECT_ROOT));
  const synthLabel = values.synth ?? "the working tree (synthesized)";
  const stack = loadStack(synthPath, values.stack);
  const report = coverage(state, stack.json as StackJson);
  let covered = report.covered;

  let planned: { changes: ResourceChange[]; outputs: Record<string, { actions: string[] }> } | undefined;
  if (values.plan) {
    const vars: Record<string, string> = {};
    for (const pair of values.var ?? []) {
      const at = pair.indexOf("=");
      if (at < 1) throw new UsageError(`--var takes name=value, got "${pair}"`);
      vars[pair.slice(0, at)] = pair.slice(at + 1);
    }
    const caller = state.resources.find((r) => r.mode === "data" && r.type === "aws_caller_identity");
    const accountId = (caller?.instances[0]?.attributes?.account_id as string | undefined) ?? "123456789012";
    const workdir = await offlineWorkdir({ configFile: stack.file, stateFile: values.state, accountId });
    try {
      const varFiles = (values["var-file"] ?? []).map((f) => (f.startsWith("/") ? f : `${process.cwd()}/${f}`));
      const result = await plan(workdir.dir, { varFiles, vars });
      if (result.code !== 0 || !result.json) {
        throw new UsageError(`terraform plan failed:\n${(result.stderr || result.stdout).trim()}`);
      }
      planned = { changes: result.json.resource_changes ?? [], outputs: result.json.output_changes ?? {} };
      covered = !planned.changes.some((rc) => destroysObject(rc));
    } finally {
      await workdir.dispose();
    }
  }

  if (values.format === "json") {
    const verdicts = planned?.changes
      .filter((rc) => rc.mode === "managed")
      .map((rc) => ({
        address: rc.address,
        verdict: VERDICT[rc.change.actions.join(",")] ?? rc.change.actions.join("+"),
        replacePaths: rc.change.replace_paths,
      }));
    process.stdout.write(
      `${JSON.stringify({ state: values.state, synth: synthLabel, ...report, plan: verdicts, covered }, null, 2)}\n`,
    );
  } else {
    const lines = staticReport(values.state, synthLabel, report);
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
}

runCli("state:check", main);
