/**
 * State safety of the worker's operations: against the legacy production state,
 * the default stack creates new resources, updates the worker service in place
 * and replaces only the worker's task definition (a new revision). Nothing is
 * deleted or replaced otherwise: no service (downtime), no log group (logs), no
 * cluster or role. The exact change list is named here.
 */
import { cp } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffValues } from "../tools/lib/structural-diff.js";
import { type OfflineWorkdir, offlineWorkdir, plan, type TerraformPlanJson } from "../tools/lib/terraform.js";
import {
  FIXTURES,
  LEGACY_MODULE,
  LEGACY_STATE,
  LEGACY_TFVARS,
  readState,
  stateAddresses,
  WORKER_OPERATIONS_RESOURCES,
} from "./helpers/fixtures.js";
import { type Synthesized, synthCompute } from "./helpers/synth.js";

let synth: Synthesized;
const workdirs: OfflineWorkdir[] = [];
beforeAll(() => {
  synth = synthCompute();
});
afterAll(async () => {
  await Promise.all(workdirs.map((w) => w.dispose()));
});

async function planned(options: {
  config?: string;
  module?: string;
  stateFile?: string;
  varFile: string;
  accountId?: string;
}) {
  const workdir = await offlineWorkdir({
    configFile: options.config,
    stateFile: options.stateFile,
    accountId: options.accountId,
  });
  workdirs.push(workdir);
  if (options.module) await cp(options.module, workdir.dir, { recursive: true });
  const result = await plan(workdir.dir, { varFile: options.varFile });
  if (result.code !== 0 || !result.json) throw new Error(`plan failed (exit ${result.code}):\n${result.stderr}`);
  return result.json;
}

const CREATED = WORKER_OPERATIONS_RESOURCES;
/** Every managed resource of the production state but the worker's service and task definition. */
const UNCHANGED = stateAddresses(readState()).filter(
  (a) => !a.startsWith("data.") && a !== "aws_ecs_service.worker" && a !== "aws_ecs_task_definition.worker",
);

describe("plan of the default stack against the legacy production state", () => {
  let json: TerraformPlanJson;
  beforeAll(async () => {
    json = await planned({ config: synth.file, stateFile: LEGACY_STATE, varFile: LEGACY_TFVARS });
  });
  const byAction = () => {
    const out: Record<string, string[]> = {};
    for (const rc of json.resource_changes ?? []) {
      if (rc.mode !== "managed") continue;
      const action = rc.change.actions.join(",");
      out[action] = [...(out[action] ?? []), rc.address];
    }
    for (const list of Object.values(out)) list.sort();
    return out;
  };

  it("makes exactly the expected changes: creates, one update in place, one new task definition revision", () => {
    expect(UNCHANGED).toHaveLength(12);
    expect(byAction()).toEqual({
      create: CREATED,
      update: ["aws_ecs_service.worker"],
      // create_before_destroy: the new revision first; skip_destroy keeps the old one registered
      "create,delete": ["aws_ecs_task_definition.worker"],
      "no-op": UNCHANGED,
    });
  });

  it("updates the worker service only to point at the new revision", () => {
    const service = (json.resource_changes ?? []).find((rc) => rc.address === "aws_ecs_service.worker");
    if (!service) throw new Error("aws_ecs_service.worker is not in the plan");
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
    const td = (json.resource_changes ?? []).find((rc) => rc.address === "aws_ecs_task_definition.worker");
    expect([...new Set((td?.change.replace_paths ?? []).map((p) => p[0]))].sort()).toEqual([
      "container_definitions",
      "ephemeral_storage",
      "task_role_arn",
      "volume",
    ]);
  });

  it("changes no legacy output but the worker's task definition ARN, and adds the new ones", () => {
    const changed = Object.entries(json.output_changes ?? {})
      .filter(([, c]) => c.actions.join() !== "no-op")
      .map(([name, c]) => `${name}: ${c.actions.join(",")}`)
      .sort();
    expect(changed).toEqual([
      "worker_alarm_names: create",
      "worker_autoscaling_resource_id: create",
      "worker_task_definition_arn: update",
      "worker_task_role_arn: create",
    ]);
  });
});

/** Resources the worker's operations leave alone plan exactly as the hand-written module plans them. */
describe.each([
  { name: "prod.tfvars", varFile: LEGACY_TFVARS, accountId: "123456789012" },
  { name: "staging.tfvars", varFile: `${FIXTURES}/staging.tfvars`, accountId: "210987654321" },
])("the default stack beside the hand-written module, for $name", ({ varFile, accountId }) => {
  it("plans the untouched resources with the hand-written module's values", async () => {
    const [ours, legacy] = await Promise.all([
      planned({ config: synth.file, varFile, accountId }),
      planned({ module: LEGACY_MODULE, varFile, accountId }),
    ]);
    const values = (json: TerraformPlanJson) =>
      Object.fromEntries(
        (json.planned_values?.root_module.resources ?? [])
          .filter((r) => UNCHANGED.includes(r.address))
          .map((r) => [r.address, r.values]),
      );
    expect(Object.keys(values(legacy)).sort()).toEqual(UNCHANGED);
    expect(values(ours)).toEqual(values(legacy));
  });
});
