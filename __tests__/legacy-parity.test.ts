import { cp } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  effectiveChanges,
  type OfflineWorkdir,
  offlineWorkdir,
  type PlanResult,
  plan,
  type TerraformPlanJson,
} from "../tools/lib/terraform.js";
import { FIXTURES, LEGACY_MODULE, LEGACY_STATE, LEGACY_TFVARS, readState, stateAddresses } from "./helpers/fixtures.js";
import { type Synthesized, synthCompute } from "./helpers/synth.js";

/**
 * The switch-over from the hand-written module: the stack in legacy-parity mode
 * (workerOperations: false, CRICKSY_LEGACY_PARITY=1 for the app) is its exact
 * equivalent. The default stack's changes are pinned down in state-safety.test.ts.
 */
let synth: Synthesized;
const workdirs: OfflineWorkdir[] = [];
beforeAll(() => {
  synth = synthCompute({ workerOperations: false });
});
afterAll(async () => {
  await Promise.all(workdirs.map((w) => w.dispose()));
});

async function planSynth(options: { stateFile?: string; varFile: string; accountId?: string }) {
  const workdir = await offlineWorkdir({
    configFile: synth.file,
    stateFile: options.stateFile,
    accountId: options.accountId,
  });
  workdirs.push(workdir);
  const result = await plan(workdir.dir, { varFile: options.varFile });
  return { workdir, result };
}

async function planLegacy(options: { varFile: string; accountId?: string }) {
  const workdir = await offlineWorkdir({ accountId: options.accountId });
  workdirs.push(workdir);
  await cp(LEGACY_MODULE, workdir.dir, { recursive: true });
  const result = await plan(workdir.dir, { varFile: options.varFile });
  return { workdir, result };
}

function planJson(result: PlanResult): TerraformPlanJson {
  if (result.code !== 0 || !result.json) throw new Error(`plan failed (exit ${result.code}):\n${result.stderr}`);
  return result.json;
}

describe("plan against the legacy production state", () => {
  let result: PlanResult;
  let stsCalls: string[];
  beforeAll(async () => {
    const planned = await planSynth({ stateFile: LEGACY_STATE, varFile: LEGACY_TFVARS });
    result = planned.result;
    stsCalls = planned.workdir.sts.calls;
  });

  it("says No changes", () => {
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("No changes. Your infrastructure matches the configuration.");
  });

  it("creates, updates, replaces and deletes nothing, and changes no output", () => {
    const json = planJson(result);
    expect(effectiveChanges(json).map((rc) => `${rc.address}: ${rc.change.actions.join("+")}`)).toEqual([]);
    const managed = (json.resource_changes ?? []).filter((rc) => rc.mode === "managed");
    expect(managed).toHaveLength(14);
    const outputActions = Object.entries(json.output_changes ?? {}).filter(([, c]) => c.actions.join() !== "no-op");
    expect(outputActions).toEqual([]);
    expect(Object.keys(json.output_changes ?? {}).sort()).toEqual(Object.keys(readState().outputs).sort());
  });

  it("has every address of the state in its configuration", () => {
    const json = planJson(result);
    const configured = new Set((json.configuration?.root_module.resources ?? []).map((r) => r.address));
    const missing = stateAddresses(readState()).filter((address) => !configured.has(address));
    expect(missing).toEqual([]);
  });

  it("asks nothing of AWS but the caller identity, on loopback", () => {
    expect(stsCalls.length).toBeGreaterThan(0);
    expect(new Set(stsCalls)).toEqual(new Set(["GetCallerIdentity"]));
  });
});

/**
 * For any inputs, the synth must plan to exactly what the hand-written module plans to:
 * both are planned from an empty state and their planned values compared.
 */
describe.each([
  { name: "prod.tfvars", varFile: LEGACY_TFVARS, accountId: "123456789012" },
  { name: "staging.tfvars", varFile: `${FIXTURES}/staging.tfvars`, accountId: "210987654321" },
])("same plan as the hand-written module for $name", ({ varFile, accountId }) => {
  let ours: TerraformPlanJson;
  let legacy: TerraformPlanJson;
  beforeAll(async () => {
    const [a, b] = await Promise.all([planSynth({ varFile, accountId }), planLegacy({ varFile, accountId })]);
    ours = planJson(a.result);
    legacy = planJson(b.result);
  });

  const byAddress = (json: TerraformPlanJson) =>
    Object.fromEntries((json.planned_values?.root_module.resources ?? []).map((r) => [r.address, r.values]));

  it("plans the same resources with the same values", () => {
    const legacyValues = byAddress(legacy);
    expect(Object.keys(legacyValues).length).toBe(14);
    expect(byAddress(ours)).toEqual(legacyValues);
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
    expect(Object.keys(legacyVariables)).toHaveLength(20);
    const ours_ = variables(ours) as Record<string, { default?: unknown }>;
    expect(Object.fromEntries(Object.keys(legacyVariables).map((k) => [k, ours_[k]]))).toEqual(legacyVariables);
    const added = Object.keys(ours_).filter((k) => !(k in legacyVariables));
    expect(added.length).toBeGreaterThan(0);
    for (const name of added) expect(ours_[name].default, name).toBeDefined();
  });
});
