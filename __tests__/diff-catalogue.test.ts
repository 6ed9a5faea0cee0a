/**
 * The diff's verdicts are Terraform's: a catalogue of edits generated from the
 * real synth (helpers/catalogue.ts: every value of every resource and data
 * source, variable defaults and locals, security edits, renames with and
 * without moved blocks, removals, additions, cosmetic reorders), in three
 * batches, each diffed through the command (base: the synth, head: the synth
 * with the batch) and held against `terraform plan` of the head against the
 * production state fixture with the synth deployed on it. Address by address:
 * the same actions, the same attributes forcing a replacement, the same moves;
 * the gates as the truth says; every replaced or deleted address named in the
 * text output.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChangeReport } from "../tools/lib/diff/change-report.js";
import { STATEFUL_TYPES } from "../tools/lib/diff/change-report.js";
import type { StackJson } from "../tools/lib/stack/read.js";
import { inlineReferences } from "../tools/lib/terraform/base-state.js";
import { REPLACED_BY_DESIGN, type TerraformPlanJson } from "../tools/lib/terraform/plan.js";
import { providerSchemas } from "../tools/lib/terraform/schema.js";
import { offlineWorkdir } from "../tools/lib/terraform/workdir.js";

/** Stand-ins for the validation of probes only (the plans that count use no inlining). */
const STAND_INS = { region: "us-east-2", accountId: "123456789012" };

import {
  additionEdits,
  applyEdits,
  cosmeticEdit,
  deployedState,
  type Edit,
  leafResources,
  probes,
  removalEdit,
  renameEdit,
  securityEdits,
  validProbes,
  variableAndLocalEdits,
  verdictTable,
} from "./helpers/catalogue.js";
import { runTool } from "./helpers/cli.js";
import { LEGACY_STATE, LEGACY_TFVARS } from "./helpers/fixtures.js";
import { type Synthesized, synthCompute } from "./helpers/synth.js";

const dir = mkdtempSync(join(tmpdir(), "cricksy-catalogue-"));
/**
 * Production's inputs, plus what makes every conditional resource exist (an alarm subscription,
 * a pipeline KMS key), so that every resource type of the synth has an instance to change.
 */
const TFVARS = join(dir, "catalogue.tfvars");
writeFileSync(
  TFVARS,
  `${readFileSync(LEGACY_TFVARS, "utf8")}
alarm_subscriptions         = [{ protocol = "email", endpoint = "oncall@example.com" }]
video_pipeline_kms_key_arns = ["arn:aws:kms:us-east-2:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"]
`,
);
let synth: Synthesized;
let deployed: string;
/** One `terraform init` for every plan of the file. */
let initialized: string | undefined;
let disposeInit = async () => {};
afterAll(() => disposeInit());

/** `terraform plan` of a head against `state` (none: an empty state), offline. */
async function planOf(json: StackJson, state?: string) {
  const workdir = await offlineWorkdir({ config: json, stateFile: state, answerAnyQueue: true, initFrom: initialized });
  try {
    return await workdir.plan({ varFile: TFVARS, show: state !== undefined });
  } finally {
    await workdir.dispose();
  }
}

/** The diff of the synth and a head through the command, as JSON, and the report file for --report. */
async function diffOf(name: string, head: StackJson) {
  const headFile = join(dir, `${name}.tf.json`);
  writeFileSync(headFile, JSON.stringify(head, null, 2));
  const result = await runTool("diff", [synth.file, headFile, "--var-file", TFVARS, "--format", "json"]);
  if (result.code !== 2) throw new Error(`the diff of ${name} exited ${result.code}: ${result.stderr}`);
  const reportFile = join(dir, `${name}.report.json`);
  writeFileSync(reportFile, result.stdout);
  return { result, report: JSON.parse(result.stdout) as ChangeReport, reportFile };
}

/** The report's verdicts in the form of `verdictTable` (no-ops left out). */
function reportTable(report: ChangeReport): Record<string, string> {
  return Object.fromEntries(
    report.resources.map((r) => [
      r.address,
      [
        r.actions.join(","),
        ...(r.replacePaths?.length
          ? [
              `forced by ${r.replacePaths
                .map((p) => `.${p}`)
                .sort()
                .join(" ")}`,
            ]
          : []),
        ...(r.previousAddress ? [`from ${r.previousAddress}`] : []),
      ].join("; "),
    ]),
  );
}

/** The truth's table without its no-ops (a move is a no-op with a former address: kept). */
const changed = (table: Record<string, string>) =>
  Object.fromEntries(Object.entries(table).filter(([, v]) => v !== "no-op"));

/** What the gates must say, from the truth: destroys (replaces but new revisions, deletes), and those that lose data. */
function expectedGates(truth: TerraformPlanJson) {
  const destroys = (truth.resource_changes ?? []).filter(
    (rc) =>
      rc.mode === "managed" &&
      rc.change.actions.includes("delete") &&
      !(rc.change.actions.includes("create") && REPLACED_BY_DESIGN.has(rc.type)),
  );
  return {
    destroy: destroys.map((rc) => rc.address).sort(),
    stateful: destroys
      .filter((rc) => STATEFUL_TYPES[rc.type])
      .map((rc) => rc.address)
      .sort(),
  };
}

interface Batch {
  diff: Awaited<ReturnType<typeof diffOf>>;
  truth: TerraformPlanJson;
  gated: Record<string, Awaited<ReturnType<typeof runTool>>>;
  text: string[];
}

/**
 * One batch, run (not asserted): the diff through the command beside the truth, each gate on the
 * saved report, the text. The batches run side by side; each test asserts its own (`holdAgainstTruth`).
 */
async function runBatch(name: string, edits: Edit[], truthPlan: Promise<TerraformPlanJson>): Promise<Batch> {
  const head = applyEdits(synth.json, edits);
  const [diff, truth] = await Promise.all([diffOf(name, head), truthPlan]);
  const gated: Batch["gated"] = {};
  for (const kind of ["destroy", "stateful"]) {
    gated[kind] = await runTool("diff", ["--report", diff.reportFile, "--fail-on", kind]);
  }
  const text = (await runTool("diff", ["--report", diff.reportFile])).stdout.split("\n");
  return { diff, truth, gated, text };
}

/** Whether a resource is replaced create-before-destroy (`lifecycle.create_before_destroy`). */
const createsBeforeDestroy = (json: StackJson, address: string) => {
  const [type, name] = address.split(".");
  const block = json.resource?.[type]?.[name] as { lifecycle?: { create_before_destroy?: boolean } } | undefined;
  return block?.lifecycle?.create_before_destroy === true;
};

/** The truth of a head: its plan against the deployed state (once that state is made). */
const truthOf = (edits: Edit[]) =>
  deployedReady.then(async () => {
    const result = await planOf(applyEdits(synth.json, edits), deployed);
    if (result.code !== 0 || !result.json) throw new Error(`the truth's plan failed:\n${result.stderr}`);
    return result.json;
  });

/** Every assertion of the module's comment, on one batch. */
function holdAgainstTruth({ diff, truth, gated, text }: Batch) {
  expect(diff.result.stderr).toBe("");
  expect(diff.result.code).toBe(2);
  expect(reportTable(diff.report)).toEqual(changed(verdictTable(truth)));

  const gates = expectedGates(truth);
  for (const [kind, addresses] of Object.entries(gates)) {
    expect(gated[kind].code, `--fail-on ${kind}`).toBe(addresses.length ? 3 : 2);
    if (addresses.length)
      expect(gated[kind].stderr).toBe(`diff: failing on ${kind} (--fail-on ${kind}): ${addresses.join(", ")}\n`);
  }
  for (const rc of truth.resource_changes ?? []) {
    if (rc.mode !== "managed" || !rc.change.actions.includes("delete")) continue;
    const words =
      rc.change.actions.length === 1 ? "delete" : REPLACED_BY_DESIGN.has(rc.type) ? "new revision" : "replace";
    expect(
      text.some((l) => l.includes(` ${rc.address}: ${words}`)),
      `${rc.address}: ${words}`,
    ).toBe(true);
  }
}

let probeBatch: Edit[];
let probeTruth: TerraformPlanJson;
let deployedReady: Promise<void>;
const batches: Record<string, Promise<Batch>> = {};
// A batch that fails fails its own test (awaited there), never the run as an unhandled rejection.
const started = (batch: Promise<Batch>) => {
  batch.catch(() => {});
  return batch;
};

beforeAll(async () => {
  synth = synthCompute();
  const init = await offlineWorkdir({ config: synth.json });
  disposeInit = () => init.dispose();
  await init.terraform("init", ["-input=false"]);
  initialized = init.dir;
  const schemas = await providerSchemas(init.dir);

  // The deployed state (the truths need it), and the batch that needs no probe, from the start.
  deployed = join(dir, "deployed.tfstate");
  deployedReady = deployedState(synth.file, LEGACY_STATE, TFVARS).then((state) =>
    writeFileSync(deployed, JSON.stringify(state.state)),
  );
  deployedReady.catch(() => {});
  const leaves = leafResources(synth.json);
  const others = Object.entries(synth.json.resource)
    .flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`))
    .filter((a) => !leaves.includes(a))
    .sort();
  const renames = [
    ...leaves.map(removalEdit),
    // Every other one with a moved block; never a create_before_destroy resource (the task definition):
    // moved and replaced while its dependencies are renamed without moved blocks, Terraform's graph is a cycle.
    ...others.map((address, i) => renameEdit(address, i % 2 === 0 && !createsBeforeDestroy(synth.json, address))),
    cosmeticEdit(),
  ];
  batches.renames = started(runBatch("renames", renames, truthOf(renames)));

  // The probes Terraform accepts: resources validated all at once, references inlined (no resource
  // waits for another's errors), against an empty state.
  const candidates = [
    ...(await probes(synth.json)),
    ...(await variableAndLocalEdits(synth.json)),
    ...securityEdits(synth.json),
  ];
  const valid = await validProbes(candidates, (edits) =>
    planOf(inlineReferences(applyEdits(synth.json, edits), schemas, STAND_INS).json),
  );
  probeBatch = valid.edits;
  // The additions (a copy of one resource of every type) go with the probes: beside the renames
  // without moved blocks, copies that refer to renamed resources make Terraform's graph cyclic.
  // Copied first: a security edit removes an inline policy that one of them copies.
  const everyValue = [...additionEdits(synth.json), ...probeBatch];
  const truth = truthOf(everyValue);
  batches.everyValue = started(runBatch("every-value", everyValue, truth));
  probeTruth = await truth;

  // The in-place probes alone: those Terraform did not name as forcing a replacement.
  const forcing = new Map(
    (probeTruth.resource_changes ?? []).map((rc) => [
      rc.address,
      new Set((rc.change.replace_paths ?? []).map((p) => String(p[0]))),
    ]),
  );
  const inPlace = probeBatch.filter(
    (e) =>
      (e.kind === "probe" || (e.kind === "security" && e.path === undefined && !e.describe.includes("removed"))) &&
      !(e.path && forcing.get(e.target)?.has(String(e.path[0]))) &&
      !e.describe.includes("attached to"),
  );
  expect(inPlace.length).toBeGreaterThan(10);
  batches.inPlace = started(runBatch("in-place", inPlace, truthOf(inPlace)));
}, 600_000);

describe("the catalogue of edits, generated from the synth", () => {
  it("probes every resource type of the synth (values Terraform accepts)", () => {
    const types = Object.keys(synth.json.resource);
    const probed = new Set(probeBatch.filter((e) => e.kind === "probe").map((e) => e.target.split(".")[0]));
    expect(types.filter((t) => !probed.has(t))).toEqual([]);
    expect(probeBatch.filter((e) => e.kind === "probe" && e.target.startsWith("data.")).length).toBeGreaterThan(0);
    expect(probeBatch.filter((e) => e.kind === "variable default").length).toBeGreaterThan(0);
    expect(probeBatch.filter((e) => e.kind === "local").length).toBeGreaterThan(0);
    expect(probeBatch.filter((e) => e.kind === "security").length).toBeGreaterThan(3);
  });

  it("every value, variable default and local changed, the security edits and the additions: the same verdicts as Terraform's", async () => {
    const batch = await batches.everyValue;
    holdAgainstTruth(batch);
    expect(batch.diff.report.summary.replace).toBeGreaterThan(0);
    expect(batch.diff.report.summary.create).toBeGreaterThan(0);
  }, 600_000);

  it("the in-place probes alone (those Terraform did not name as forcing a replacement): the same verdicts", async () => {
    const batch = await batches.inPlace;
    holdAgainstTruth(batch);
    expect(batch.diff.report.summary.update).toBeGreaterThan(0);
  }, 600_000);

  it("renames with and without moved blocks, removals and cosmetic reorders: the same verdicts", async () => {
    const batch = await batches.renames;
    holdAgainstTruth(batch);
    expect(batch.diff.report.resources.some((r) => r.action === "move")).toBe(true);
    expect(batch.diff.report.resources.some((r) => r.action === "delete")).toBe(true);
  }, 600_000);
});
