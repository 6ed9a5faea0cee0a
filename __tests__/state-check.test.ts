/**
 * state:check end to end, through the command: the legacy production state, and
 * states with an extra, a renamed and a retyped resource; statically and with
 * Terraform's own plan (offline).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runTool } from "./helpers/cli.js";
import {
  CHANGED_IN_STATE,
  LEGACY_STATE,
  LEGACY_TFVARS,
  newInstances,
  newResources,
  readState,
  stateAddresses,
} from "./helpers/fixtures.js";
import { type Synthesized, synthCompute } from "./helpers/synth.js";

/** How many managed resources the production state holds. */
const MANAGED = stateAddresses(readState(), "managed").length;

/** The legacy-parity stack (exact outputs below), and the default one. */
let synth: Synthesized;
let defaultSynth: Synthesized;
const dir = mkdtempSync(join(tmpdir(), "cricksy-states-"));

/** A copy of the legacy state, changed. */
function stateVariant(
  name: string,
  change: (state: { resources: Record<string, unknown>[]; version: number }) => void,
) {
  const state = JSON.parse(readFileSync(LEGACY_STATE, "utf8"));
  change(state);
  const file = join(dir, `${name}.tfstate`);
  writeFileSync(file, JSON.stringify(state, null, 2));
  return file;
}

let extra: string;
let renamed: string;
let retyped: string;
beforeAll(() => {
  synth = synthCompute({ workerOperations: false });
  defaultSynth = synthCompute();
  extra = stateVariant("extra", (state) => {
    state.resources.push({
      mode: "managed",
      type: "aws_sqs_queue",
      name: "legacy_jobs",
      provider: 'provider["registry.terraform.io/hashicorp/aws"]',
      instances: [
        { schema_version: 0, attributes: { id: "https://sqs.us-east-2.amazonaws.com/123456789012/old", name: "old" } },
      ],
    });
  });
  renamed = stateVariant("renamed", (state) => {
    const service = state.resources.find((r) => r.type === "aws_ecs_service" && r.name === "worker") as {
      name: string;
    };
    service.name = "analysis_worker";
  });
  retyped = stateVariant("retyped", (state) => {
    const policy = state.resources.find((r) => r.type === "aws_iam_role_policy") as { type: string };
    policy.type = "aws_iam_policy";
  });
});

const check = (...args: string[]) => runTool("state:check".replace(":", "-"), args);

describe("static check", () => {
  it("finds the legacy production state fully covered: exit 0", async () => {
    const result = await check("--state", LEGACY_STATE, "--synth", synth.file);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `State check: ${LEGACY_STATE} against ${synth.file}`,
        "",
        `Covered: ${MANAGED} of ${MANAGED} managed resources of the state are in the configuration.`,
        "",
        "Result: covered — every object in the state is kept.",
        "",
      ].join("\n"),
    );
  });

  it("finds it covered by the default stack too, which creates the worker's operations: exit 0", async () => {
    const result = await check("--state", LEGACY_STATE, "--synth", defaultSynth.file, "--format", "json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      covered: true,
      destroyed: [],
      created: newResources(defaultSynth.json),
    });
  });

  it("reports an extra resource of the state as destroyed: exit 2", async () => {
    const result = await check("--state", extra, "--synth", synth.outdir);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(
      `Covered: ${MANAGED} of ${MANAGED + 1} managed resources of the state are in the configuration.\n\nWould be destroyed (in the state, not in the configuration):\n  - aws_sqs_queue.legacy_jobs\n`,
    );
    expect(result.stdout).toContain("Result: NOT covered");
  });

  it("proposes the moved block and the cdktf call for a renamed resource", async () => {
    const result = await check("--state", renamed, "--synth", synth.file);
    expect(result.code).toBe(2);
    const lines = result.stdout.split("\n");
    expect(lines.slice(lines.indexOf("Would be destroyed (in the state, not in the configuration):"))).toEqual([
      "Would be destroyed (in the state, not in the configuration):",
      "  - aws_ecs_service.analysis_worker",
      "",
      "Would be created (in the configuration, not in the state):",
      "  + aws_ecs_service.worker",
      "",
      "Proposed moves (keep the object instead of destroying it and creating a new one):",
      "  aws_ecs_service.analysis_worker → aws_ecs_service.worker",
      "    HCL:   moved { from = aws_ecs_service.analysis_worker  to = aws_ecs_service.worker }",
      '    cdktf: <the aws_ecs_service made at compute/worker-service/service>.moveFromId("aws_ecs_service.analysis_worker")',
      '           or keep the old address: pin(<that resource>, "analysis_worker")',
      "",
      "Result: NOT covered — the configuration would destroy objects of the state (see above).",
      "",
    ]);
  });

  it("reports a type mismatch, in JSON for tools", async () => {
    const result = await check("--state", retyped, "--synth", synth.file, "--format", "json");
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      covered: false,
      destroyed: ["aws_iam_policy.task_execution_secrets"],
      created: ["aws_iam_role_policy.task_execution_secrets"],
      typeMismatches: [
        { state: "aws_iam_policy.task_execution_secrets", configuration: "aws_iam_role_policy.task_execution_secrets" },
      ],
      moves: [],
    });
  });
});

describe("with --plan: Terraform's own verdict, offline", () => {
  it("says no-op for every resource of the legacy state", async () => {
    const result = await check("--state", LEGACY_STATE, "--synth", synth.file, "--plan", "--var-file", LEGACY_TFVARS);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const verdicts = result.stdout.split("\n").filter((l) => /^ {2}\S+ +aws_/.test(l));
    expect(verdicts).toHaveLength(MANAGED);
    expect(verdicts.every((l) => l.startsWith("  no-op    "))).toBe(true);
  });

  it("says what the default stack does: creates, the documented updates, and a new task definition revision: exit 0", async () => {
    const result = await check(
      "--state",
      LEGACY_STATE,
      "--synth",
      defaultSynth.file,
      "--plan",
      "--var-file",
      LEGACY_TFVARS,
    );
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    // the instances of what the state lacks (production's inputs: the alarm key and topic, no KMS grants)
    const created = newInstances(defaultSynth.json);
    expect(lines.filter((l) => l.startsWith("  create ")).map((l) => l.split(/ +/)[2])).toEqual(created);
    // the documented changes to the state (CHANGED_IN_STATE), every other resource of the state a no-op
    const said = (verdict: string) =>
      lines.filter((l) => l.startsWith(`  ${verdict.padEnd(8)} `)).map((l) => l.split(/ +/)[2]);
    expect(
      Object.fromEntries(
        [...said("update"), ...said("replace")].map((a) => [a, said("update").includes(a) ? "update" : "replace"]),
      ),
    ).toEqual(CHANGED_IN_STATE);
    expect(said("no-op")).toHaveLength(MANAGED - Object.keys(CHANGED_IN_STATE).length);
    const replace = lines.indexOf("  replace  aws_ecs_task_definition.worker");
    expect(lines.slice(replace + 2, replace + 4)).toEqual([
      "           forced by: container_definitions, ephemeral_storage, runtime_platform, task_role_arn, volume",
      // the legacy state has skip_destroy = false: this apply deregisters the legacy revision
      "           (a new revision: how ECS deploys; the old one is deregistered (INACTIVE): the state has no skip_destroy)",
    ]);
    const update = lines.indexOf("  update   aws_ecs_service.worker");
    expect(lines[update + 1]).toBe(
      "           changes: alarms, network_configuration, task_definition, wait_for_steady_state",
    );
    expect(lines).toContain("Result: covered — every object in the state is kept.");
  });

  it("in legacy-parity mode (no skip_destroy), a new task definition revision deregisters the old one", async () => {
    // A larger worker task: a new revision of the parity stack's task definition.
    const sizes = join(dir, "larger-worker.tfvars");
    writeFileSync(sizes, "worker_cpu = 1024\nworker_memory = 2048\n");
    const result = await check(
      "--state",
      LEGACY_STATE,
      "--synth",
      synth.file,
      "--plan",
      "--var-file",
      LEGACY_TFVARS,
      "--var-file",
      sizes,
    );
    expect(result.stderr).toBe("");
    const lines = result.stdout.split("\n");
    const replace = lines.indexOf("  replace  aws_ecs_task_definition.worker");
    expect(replace).toBeGreaterThan(0);
    expect(lines.slice(replace + 2, replace + 4)).toEqual([
      "           forced by: cpu, memory",
      "           (a new revision: how ECS deploys; the old one is deregistered (INACTIVE): the state has no skip_destroy)",
    ]);
    expect(result.stdout).not.toContain("stays registered");
  });

  it("says delete and create for the renamed resource", async () => {
    const result = await check("--state", renamed, "--synth", synth.file, "--plan", "--var-file", LEGACY_TFVARS);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("  delete   aws_ecs_service.analysis_worker\n");
    expect(result.stdout).toContain("  create   aws_ecs_service.worker\n");
    expect(result.stdout).toContain("  outputs that change: worker_service_arn");
  });

  it("shows Terraform's error when the inputs are incomplete", async () => {
    const result = await check("--state", LEGACY_STATE, "--synth", synth.file, "--plan");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^state:check: terraform plan failed:\n/);
    expect(result.stderr).toContain("No value for required variable");
  });
});

describe("bad input", () => {
  it.each([
    [[], "state:check: --state is required; usage: npm run -s state:check -- --state <terraform.tfstate>"],
    [["--state", "/no/such.tfstate"], "state:check: /no/such.tfstate does not exist"],
    [
      ["--state", "package.json"],
      'state:check: package.json is not a Terraform state of format version 4 (found version "0.1.0")',
    ],
    [
      ["--state", "tsconfig.json"],
      "state:check: tsconfig.json is not a Terraform state of format version 4 (it has no version)",
    ],
    [["--state", "STATE", "--var-file", "x.tfvars"], "state:check: --var-file and --var only apply with --plan"],
  ])("%j: one clear line, exit 1", async (args, message) => {
    const result = await check(...args.map((a) => (a === "STATE" ? LEGACY_STATE : a)));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.startsWith(message)).toBe(true);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });
});
