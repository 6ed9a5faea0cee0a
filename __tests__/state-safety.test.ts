/**
 * State safety of the worker's operations: against the legacy production state,
 * the default stack creates what the state does not hold yet, updates the worker
 * service in place and replaces only the worker's task definition (a new
 * revision). Nothing is deleted or replaced otherwise: no service (downtime), no
 * log group (logs), no cluster or role. What is new comes from the synth minus
 * the state; the verdict on every address of the state is named here.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { diffValues } from "../tools/lib/diff/values.js";
import type { TerraformPlanJson } from "../tools/lib/terraform/plan.js";
import {
  INPUT_SETS,
  LEGACY_STATE,
  LEGACY_TFVARS,
  newResources,
  readState,
  stateAddresses,
} from "./helpers/fixtures.js";
import { changeOf, offlinePlans, planJson, plannedValues, verdicts } from "./helpers/plan.js";
import { type Synthesized, synthCompute } from "./helpers/synth.js";

let synth: Synthesized;
const plans = offlinePlans();
beforeAll(() => {
  synth = synthCompute();
});

/** Terraform's verdict on each address of the production state that the worker's operations change. */
const CHANGED_IN_STATE: Record<string, string> = {
  // its task definition changes: an in-place update to point at the new revision
  "aws_ecs_service.worker": "update",
  // create_before_destroy: the new revision first; skip_destroy keeps the old one registered
  "aws_ecs_task_definition.worker": "replace",
};
/** Every managed resource of the production state but those above: left alone. */
const UNCHANGED = stateAddresses(readState(), "managed").filter((a) => !(a in CHANGED_IN_STATE));

describe("plan of the default stack against the legacy production state", () => {
  let json: TerraformPlanJson;
  beforeAll(async () => {
    json = planJson(
      (await plans.plan({ configFile: synth.file, stateFile: LEGACY_STATE, varFile: LEGACY_TFVARS })).result,
    );
  });

  it("creates what the state lacks, updates the service in place, replaces only the task definition", () => {
    const created = newResources(synth.json);
    expect(created.length).toBeGreaterThan(0);
    expect(verdicts(json)).toEqual({
      ...Object.fromEntries(created.map((address) => [address, "create"])),
      ...Object.fromEntries(UNCHANGED.map((address) => [address, "no-op"])),
      ...CHANGED_IN_STATE,
    });
  });

  it("updates the worker service only to point at the new revision", () => {
    const service = changeOf(json, "aws_ecs_service.worker");
    const after = { ...(service.change.after as Record<string, unknown>) };
    const before = service.change.before as Record<string, unknown>;
    const afterUnknown = (service.change.after_unknown ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(afterUnknown).filter((k) => afterUnknown[k] === true);
    expect(unknown).toEqual(["task_definition"]);
    for (const key of unknown) delete after[key];
    const changed = diffValues({ ...before, task_definition: undefined }, { ...after, task_definition: undefined });
    expect(changed).toEqual([]);
  });

  it("replaces the worker task definition for its new settings only", () => {
    const td = changeOf(json, "aws_ecs_task_definition.worker");
    expect([...new Set((td.change.replace_paths ?? []).map((p) => p[0]))].sort()).toEqual([
      "container_definitions",
      "ephemeral_storage",
      "task_role_arn",
      "volume",
    ]);
  });

  it("changes no legacy output but the worker's task definition ARN, and adds the new ones", () => {
    const legacyOutputs = Object.keys(readState().outputs ?? {});
    const added = Object.keys(synth.json.output).filter((name) => !legacyOutputs.includes(name));
    expect(added.length).toBeGreaterThan(0);
    const actions = Object.fromEntries(
      Object.entries(json.output_changes ?? {}).map(([name, c]) => [name, c.actions.join(",")]),
    );
    expect(actions).toEqual({
      ...Object.fromEntries(legacyOutputs.map((name) => [name, "no-op"])),
      worker_task_definition_arn: "update",
      ...Object.fromEntries(added.map((name) => [name, "create"])),
    });
  });
});

/** Resources the worker's operations leave alone plan exactly as the hand-written module plans them. */
describe.each(INPUT_SETS)("the default stack beside the hand-written module, for $name", ({ varFile, accountId }) => {
  it("plans the untouched resources with the hand-written module's values", async () => {
    const { ours, legacy } = await plans.besideLegacyModule(synth.file, { varFile, accountId });
    const untouched = (r: { address: string }) => UNCHANGED.includes(r.address);
    const legacyValues = plannedValues(legacy, untouched);
    expect(Object.keys(legacyValues).sort()).toEqual(UNCHANGED);
    expect(plannedValues(ours, untouched)).toEqual(legacyValues);
  });
});
