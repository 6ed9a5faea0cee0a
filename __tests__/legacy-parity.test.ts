import { beforeAll, describe, expect, it } from "vitest";
import type { AwsCall } from "../tools/lib/terraform/aws-responder.js";
import { effectiveChanges, type PlanResult, type TerraformPlanJson } from "../tools/lib/terraform/plan.js";
import {
  CHANGED_IN_STATE,
  INPUT_SETS,
  LEGACY_STATE,
  LEGACY_STATES,
  LEGACY_TFVARS,
  readState,
  stateAddresses,
} from "./helpers/fixtures.js";
import { offlinePlans, planJson, plannedValues } from "./helpers/plan.js";
import { type Synthesized, synthCompute } from "./helpers/synth.js";

/**
 * The switch-over from the hand-written module: the stack in legacy-parity mode
 * (workerOperations: false, CRICKSY_LEGACY_PARITY=1 for the app) is its exact
 * equivalent. The default stack's changes are pinned down in state-safety.test.ts; the
 * resources it leaves alone plan here as the hand-written module plans them.
 */
let synth: Synthesized;
let defaultSynth: Synthesized;
const plans = offlinePlans();
beforeAll(() => {
  synth = synthCompute({ workerOperations: false });
  defaultSynth = synthCompute();
});

describe("plan against the legacy production state", () => {
  let result: PlanResult;
  let calls: AwsCall[];
  beforeAll(async () => {
    const planned = await plans.plan({ configFile: synth.file, stateFile: LEGACY_STATE, varFile: LEGACY_TFVARS });
    result = planned.result;
    calls = planned.workdir.aws.calls;
  });

  it("says No changes", () => {
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("No changes. Your infrastructure matches the configuration.");
  });

  it("creates, updates, replaces and deletes nothing, and changes no output", () => {
    const json = planJson(result);
    expect(effectiveChanges(json).map((rc) => `${rc.address}: ${rc.change.actions.join("+")}`)).toEqual([]);
    const managed = (json.resource_changes ?? []).filter((rc) => rc.mode === "managed").map((rc) => rc.address);
    expect(managed.sort()).toEqual(stateAddresses(readState(), "managed"));
    const outputActions = Object.entries(json.output_changes ?? {}).filter(([, c]) => c.actions.join() !== "no-op");
    expect(outputActions).toEqual([]);
    expect(Object.keys(json.output_changes ?? {}).sort()).toEqual(Object.keys(readState().outputs ?? {}).sort());
  });

  it("has every address of the state in its configuration", () => {
    const json = planJson(result);
    const configured = new Set((json.configuration?.root_module.resources ?? []).map((r) => r.address));
    const missing = stateAddresses(readState()).filter((address) => !configured.has(address));
    expect(missing).toEqual([]);
  });

  it("asks nothing of AWS but the caller identity, on loopback", () => {
    expect(calls.length).toBeGreaterThan(0);
    expect(new Set(calls.map((c) => `${c.service}:${c.action} ${c.status}`))).toEqual(
      new Set(["sts:GetCallerIdentity 200"]),
    );
  });
});

/**
 * The second legacy state (written by the legacy module on moto, another account, region and
 * names; its regenerate script checks that the module itself plans No changes against it):
 * the legacy-parity stack plans No changes too.
 */
describe("plan against the second legacy state (qa.tfstate)", () => {
  const qa = LEGACY_STATES[1];
  let result: PlanResult;
  beforeAll(async () => {
    const { stateFile, varFile, accountId } = qa;
    result = (await plans.plan({ configFile: synth.file, stateFile, varFile, accountId })).result;
  });

  it("says No changes, every address of the state configured", () => {
    const json = planJson(result);
    expect(result.stdout).toContain("No changes. Your infrastructure matches the configuration.");
    expect(effectiveChanges(json)).toEqual([]);
    const managed = (json.resource_changes ?? []).filter((rc) => rc.mode === "managed").map((rc) => rc.address);
    expect(managed.sort()).toEqual(stateAddresses(readState(qa.stateFile), "managed"));
  });
});

/**
 * For any inputs, the synth must plan to exactly what the hand-written module plans to:
 * both are planned from an empty state and their planned values compared.
 */
describe.each(INPUT_SETS)("same plan as the hand-written module for $name", ({ varFile, accountId }) => {
  let ours: TerraformPlanJson;
  let legacy: TerraformPlanJson;
  let operations: TerraformPlanJson;
  beforeAll(async () => {
    // the default stack too, planned beside the hand-written module's plan that this file makes anyway
    [{ ours, legacy }, operations] = await Promise.all([
      plans.besideLegacyModule(synth.file, { varFile, accountId }),
      plans.plan({ configFile: defaultSynth.file, varFile, accountId }).then((p) => planJson(p.result)),
    ]);
  });

  it("plans the same resources with the same values", () => {
    const legacyValues = plannedValues(legacy);
    expect(Object.keys(legacyValues).sort()).toEqual(stateAddresses(readState(), "managed"));
    expect(plannedValues(ours)).toEqual(legacyValues);
  });

  it("the default stack plans the resources its worker operations leave alone with the hand-written module's values", () => {
    // (what the operations change, CHANGED_IN_STATE, is pinned down in state-safety.test.ts)
    const unchanged = stateAddresses(readState(), "managed").filter((a) => !(a in CHANGED_IN_STATE));
    const untouched = (r: { address: string }) => unchanged.includes(r.address);
    const legacyValues = plannedValues(legacy, untouched);
    expect(Object.keys(legacyValues).sort()).toEqual(unchanged);
    expect(plannedValues(operations, untouched)).toEqual(legacyValues);
  });

  it("leaves the same attributes unknown until apply", () => {
    const unknown = (json: TerraformPlanJson) =>
      Object.fromEntries((json.resource_changes ?? []).map((rc) => [rc.address, rc.change.after_unknown]));
    expect(unknown(ours)).toEqual(unknown(legacy));
  });

  it("plans the same outputs", () => {
    const outputs = (json: TerraformPlanJson) =>
      Object.fromEntries(Object.entries(json.output_changes ?? {}).map(([k, c]) => [k, c.after]));
    expect(outputs(ours)).toEqual(outputs(legacy));
  });

  it("declares the same variables, defaults and descriptions (new ones all have defaults)", () => {
    const variables = (json: TerraformPlanJson) => json.configuration?.root_module.variables ?? {};
    const legacyVariables = variables(legacy);
    expect(Object.keys(legacyVariables).length).toBeGreaterThan(0);
    const ours_ = variables(ours) as Record<string, { default?: unknown }>;
    expect(Object.fromEntries(Object.keys(legacyVariables).map((k) => [k, ours_[k]]))).toEqual(legacyVariables);
    const added = Object.keys(ours_).filter((k) => !(k in legacyVariables));
    expect(added.length).toBeGreaterThan(0);
    for (const name of added) expect(ours_[name].default, name).toBeDefined();
  });
});
