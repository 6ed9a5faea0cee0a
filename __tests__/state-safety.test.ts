/**
 * State safety of the worker's operations: against each legacy state (production's, and
 * a second one the legacy module wrote on moto as another account, region and names),
 * the default stack creates what the state does not hold yet, updates the worker service
 * and the shared task role in place, and replaces only the worker's task definition (a
 * new revision). Nothing is deleted or replaced otherwise: no service (downtime), no log
 * group (logs), no cluster or role. What is new comes from the synth minus the state;
 * the verdict on every address of the state is named here.
 */
import { isDeepStrictEqual } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import type { ResourceChange, TerraformPlanJson } from "../tools/lib/terraform/plan.js";
import {
  CHANGED_IN_STATE,
  CONDITIONAL_INSTANCES,
  LEGACY_STATES,
  newInstances,
  readState,
  stateAddresses,
} from "./helpers/fixtures.js";
import { changeOf, offlinePlans, planJson, verdicts } from "./helpers/plan.js";
import { type Synthesized, synthCompute } from "./helpers/synth.js";

let synth: Synthesized;
const plans = offlinePlans();
beforeAll(() => {
  synth = synthCompute();
});

/** The resources of a synth that have `count` or `for_each`. */
function conditional(json: Synthesized["json"]): string[] {
  return Object.entries(json.resource)
    .flatMap(([type, byName]) =>
      Object.entries(byName)
        .filter(([, block]) => "count" in block || "for_each" in block)
        .map(([name]) => `${type}.${name}`),
    )
    .sort();
}

/** Whether a part of `after_unknown` marks anything unknown. */
const hasUnknown = (v: unknown): boolean =>
  v === true || (typeof v === "object" && v !== null && Object.values(v).some(hasUnknown));

/** The attributes whose planned value differs from the state's (unknown ones included). */
function changedAttributes(rc: ResourceChange): string[] {
  const before = (rc.change.before ?? {}) as Record<string, unknown>;
  const after = (rc.change.after ?? {}) as Record<string, unknown>;
  const unknown = (rc.change.after_unknown ?? {}) as Record<string, unknown>;
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys]
    .filter((k) => hasUnknown(unknown[k]) || !isDeepStrictEqual(before[k] ?? null, after[k] ?? null))
    .filter((k) => k !== "tags_all" && k !== "id")
    .sort();
}

it("names every conditional resource of the synth with its instances", () => {
  expect(conditional(synth.json)).toEqual(Object.keys(CONDITIONAL_INSTANCES).sort());
});

describe.each(LEGACY_STATES)("plan of the default stack against the legacy state $name", (legacy) => {
  let json: TerraformPlanJson;
  const state = readState(legacy.stateFile);
  /** Every managed resource of the state but those the operations change: left alone. */
  const unchanged = stateAddresses(state, "managed").filter((a) => !(a in CHANGED_IN_STATE));
  beforeAll(async () => {
    const { stateFile, varFile, accountId } = legacy;
    json = planJson((await plans.plan({ configFile: synth.file, stateFile, varFile, accountId })).result);
  });

  it("creates what the state lacks, updates the service and the task role in place, replaces only the task definition", () => {
    const created = newInstances(synth.json, state);
    expect(created.length).toBeGreaterThan(0);
    expect(verdicts(json)).toEqual({
      ...Object.fromEntries(created.map((address) => [address, "create"])),
      ...Object.fromEntries(unchanged.map((address) => [address, "no-op"])),
      ...CHANGED_IN_STATE,
    });
  });

  it("updates the worker service for its security group, deployment alarm, wait and new revision only", () => {
    const service = changeOf(json, "aws_ecs_service.worker");
    expect(changedAttributes(service)).toEqual([
      "alarms",
      "network_configuration",
      "task_definition",
      "wait_for_steady_state",
    ]);
    const after = service.change.after as Record<string, unknown>;
    const before = service.change.before as Record<string, unknown>;
    expect(after.wait_for_steady_state).toBe(true);
    expect(after.alarms).toEqual([
      { alarm_names: [`${legacy.project}-worker-jobs-failing`], enable: true, rollback: true },
    ]);
    // the subnets and public IP stay; the group is the new one (known after apply)
    const [network] = after.network_configuration as Record<string, unknown>[];
    const [networkBefore] = before.network_configuration as Record<string, unknown>[];
    expect({ ...network, security_groups: undefined }).toEqual({ ...networkBefore, security_groups: undefined });
    expect(service.change.after_unknown).toMatchObject({
      task_definition: true,
      network_configuration: [{ security_groups: true }],
    });
  });

  it("replaces the worker task definition for its new settings only", () => {
    const td = changeOf(json, "aws_ecs_task_definition.worker");
    expect([...new Set((td.change.replace_paths ?? []).map((p) => p[0]))].sort()).toEqual([
      "container_definitions",
      "ephemeral_storage",
      "runtime_platform",
      "task_role_arn",
      "volume",
    ]);
  });

  it("updates the task role's trust policy only, to ECS tasks of this account and region", () => {
    const role = changeOf(json, "aws_iam_role.task");
    expect(changedAttributes(role)).toEqual(["assume_role_policy"]);
    const trust = JSON.parse((role.change.after as { assume_role_policy: string }).assume_role_policy);
    expect(trust.Statement).toEqual([
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { Service: "ecs-tasks.amazonaws.com" },
        Condition: {
          StringEquals: { "aws:SourceAccount": legacy.accountId },
          ArnLike: { "aws:SourceArn": `arn:aws:ecs:${legacy.region}:${legacy.accountId}:*` },
        },
      },
    ]);
  });

  it("changes no legacy output but the worker's task definition ARN, and adds the new ones", () => {
    const legacyOutputs = Object.keys(state.outputs ?? {});
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

// The resources the worker's operations leave alone plan as the hand-written module plans them:
// legacy-parity.test.ts, beside the hand-written module's plans it makes anyway.
