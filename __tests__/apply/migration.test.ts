/**
 * The switch-over of docs/migration.md, rehearsed on moto's server as the AWS
 * API: the hand-written HCL module (the legacy fixture) is applied; the
 * legacy-parity synth, put in its place on the same state, plans No changes
 * against what was applied; the default synth then plans exactly the contract
 * (derived from the synth and the applied state, not listed by hand): creates for
 * what the state lacks, a new revision for a task definition and an in-place
 * update of what points at it, no delete; it applies; and plans No changes again.
 */
import { copyFile, cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsClients, awsClients } from "../helpers/aws-clients.js";
import { LEGACY_MODULE, type StateFile } from "../helpers/fixtures.js";
import { type Moto, motoVersion, startMoto } from "../helpers/moto.js";
import { type MotoLimit, probeLimits } from "../helpers/moto-limits.js";
import {
  appliedAddresses,
  describeFailure,
  MotoStackDir,
  managedAddresses,
  referencesOf,
} from "../helpers/moto-stack.js";
import { createPrerequisites, REGION } from "../helpers/prerequisites.js";
import { note, step } from "../helpers/steps.js";
import { type Synthesized, synthCompute } from "../helpers/synth.js";

/** Generous: each step is a terraform run or a scan on a shared 2-core machine. */
const LONG = 600_000;

const TEST = "migration";
let moto: Moto;
let aws: AwsClients;
let limits: MotoLimit[];
let work: string | undefined;
let dir: string;
let varFile: string;
let parity: Synthesized;
let current: Synthesized;
let legacyState: StateFile;

/** The folder, with the given configuration in it (and the state, .terraform and tfvars kept). */
async function stackWith(config: Synthesized, files: { hcl?: string }): Promise<MotoStackDir> {
  await rm(join(dir, "cdk.tf.json"), { force: true });
  for (const f of ["main.tf", "variables.tf", "outputs.tf", "versions.tf"]) await rm(join(dir, f), { force: true });
  if (files.hcl) await cp(files.hcl, dir, { recursive: true });
  else await copyFile(config.file, join(dir, "cdk.tf.json"));
  const stack = new MotoStackDir({ dir, endpoint: moto.endpoint, config: config.json, limits, varFile });
  await stack.writeOverride();
  await stack.runOk("init", "-no-color", "-input=false");
  return stack;
}

beforeAll(async () => {
  moto = await step(TEST, "start moto", startMoto);
  aws = awsClients(moto.endpoint, REGION);
  const [probed, prereqs] = await step(TEST, "probe limits, create prerequisites", () =>
    Promise.all([probeLimits(aws), createPrerequisites(aws)]),
  );
  limits = probed.observed;
  work = await mkdtemp(join(tmpdir(), "cricksy-migration-"));
  dir = join(work, "stack");
  await mkdir(dir);
  varFile = join(work, "moto.tfvars.json");
  await writeFile(varFile, JSON.stringify(prereqs.tfvars, null, 2));
  parity = synthCompute({ workerOperations: false });
  current = synthCompute();
}, 180_000);

afterAll(async () => {
  await moto?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("switching an applied HCL deployment over, on moto", { timeout: LONG }, () => {
  it("applies the hand-written module", async () => {
    // The HCL module has the parity synth's resources (legacy-parity.test.ts): the override's lifecycle merge reads those.
    const stack = await stackWith(parity, { hcl: LEGACY_MODULE });
    const applied = await step(TEST, "apply HCL module", () =>
      stack.run("apply", "-no-color", "-input=false", "-auto-approve", `-var-file=${varFile}`),
    );
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    legacyState = await stack.state();
    expect(appliedAddresses(legacyState)).toEqual(managedAddresses(parity.json));
  });

  it("plans the legacy-parity synth against the applied state as No changes", async () => {
    const stack = await stackWith(parity, {});
    const plan = await step(TEST, "plan parity synth", () => stack.plan({ all: true }));
    expect(plan.changes).toEqual({});
    expect(plan.code).toBe(0);
  });

  it("plans the default synth as the contract: creates, a new task definition revision, its service updated in place, no delete", async () => {
    const stack = await stackWith(current, {});
    const { changes: actions } = await step(TEST, "plan default synth", () => stack.plan({ all: true }));
    const inState = new Set(appliedAddresses(legacyState));

    // Creates: exactly what the synth has and the applied state lacks
    expect(actions.create ?? []).toEqual(managedAddresses(current.json).filter((a) => !inState.has(a)));
    // Replaced: one task definition (a new revision); state-safety.test.ts shows it is created first
    const replaced = actions.replace ?? [];
    expect(replaced.length).toBe(1);
    expect(replaced.every((a) => a.startsWith("aws_ecs_task_definition."))).toBe(true);
    expect(actions.delete ?? []).toEqual([]);
    // Updated in place: what refers to a replaced task definition, and nothing else
    const pointing = [...inState].filter((a) => referencesOf(current.json, a).some((r) => replaced.includes(r)));
    expect(actions.update ?? []).toEqual(pointing);
    expect(pointing.length).toBe(1);
    expect(Object.keys(actions).sort()).toEqual(["create", "replace", "update"]);
    note(TEST, "default synth against the applied HCL deployment", {
      create: actions.create.length,
      update: actions.update,
      replace: replaced,
    });
  });

  it("applies the default synth (all that moto can), then plans No changes", async () => {
    const stack = await stackWith(current, {});
    const before = legacyState.resources.find((r) => r.type === "aws_ecs_task_definition" && r.name === "worker")
      ?.instances[0]?.attributes?.arn as string;
    // Limited to what moto can apply (apply.test.ts shows the named failures of a full deploy): a failed
    // resource would stop the apply before it forgets the replaced revision (skip_destroy), and the
    // next plan would show that as a delete, on moto only.
    const blocked = stack.blocked();
    if (blocked.length) note(TEST, "not applied on moto (named limit)", { moto: motoVersion(), addresses: blocked });
    await stack.plan();
    const applied = await step(TEST, "apply default synth", () => stack.applyPlan());
    expect(applied.failures.map(describeFailure), applied.stdout + applied.stderr).toEqual([]);
    expect(applied.code).toBe(0);
    expect(appliedAddresses(await stack.state())).toEqual(
      managedAddresses(current.json).filter((a) => !blocked.includes(a)),
    );

    // The service runs the new revision. The legacy revision is released as its own state says:
    // Terraform destroys a replaced object with the prior state's arguments, and the HCL module's
    // state has skip_destroy = false, so the switch-over deregisters it (INACTIVE: the running tasks
    // go on, but no service can be pointed back at it); revisions made by the stack stay ACTIVE.
    const service = await aws.ecs.send(
      new DescribeServicesCommand({ cluster: "cricksy-ai-cluster", services: ["cricksy-ai-worker-service"] }),
    );
    const now = service.services?.[0].taskDefinition ?? "";
    expect(now.replace(/:\d+$/, "")).toBe(before.replace(/:\d+$/, ""));
    expect(Number(now.split(":").at(-1))).toBe(Number(before.split(":").at(-1)) + 1);
    const legacyTd = legacyState.resources.find((r) => r.type === "aws_ecs_task_definition" && r.name === "worker");
    const keptByState = legacyTd?.instances[0]?.attributes?.skip_destroy === true;
    const old = await aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: before }));
    expect(old.taskDefinition?.status).toBe(keptByState ? "ACTIVE" : "INACTIVE");
    note(TEST, "the legacy worker task definition after the switch-over", {
      arn: before,
      status: old.taskDefinition?.status,
      skipDestroyInLegacyState: keptByState,
    });

    const again = await step(TEST, "plan after switch-over", () => stack.plan());
    expect(again.changes).toEqual({});
    expect(again.code).toBe(0);
  });
});
