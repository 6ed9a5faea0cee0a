/**
 * The one way the tests plan offline (the tools' harness, terraform/workdir.ts):
 * a workdir per configuration (a synth file, or the hand-written HCL module),
 * planned with the given inputs; every workdir of a test file is disposed after
 * its tests. Plus the readers the plan tests share.
 */
import { afterAll } from "vitest";
import {
  type PlannedResource,
  type PlanOptions,
  type PlanResult,
  type TerraformPlanJson,
  verdict,
} from "../../tools/lib/terraform/plan.js";
import { type OfflineWorkdir, type OfflineWorkdirOptions, offlineWorkdir } from "../../tools/lib/terraform/workdir.js";
import { LEGACY_MODULE } from "./fixtures.js";

export interface OfflinePlan {
  workdir: OfflineWorkdir;
  result: PlanResult;
}

/** Call at the top of a test file: workdirs made through it are disposed after the file's tests. */
export function offlinePlans() {
  const workdirs: OfflineWorkdir[] = [];
  afterAll(async () => {
    await Promise.all(workdirs.map((w) => w.dispose()));
  });
  const workdir = async (options: OfflineWorkdirOptions) => {
    const made = await offlineWorkdir(options);
    workdirs.push(made);
    return made;
  };
  const plan = async (options: OfflineWorkdirOptions & PlanOptions): Promise<OfflinePlan> => {
    const { varFile, varFiles, vars, refresh, ...where } = options;
    const made = await workdir(where);
    return { workdir: made, result: await made.plan({ varFile, varFiles, vars, refresh }) };
  };
  return {
    workdir,
    /** A new workdir for `configFile` (or `module`), planned once with the given inputs. */
    plan,
    /** A synth and the hand-written HCL module, each planned from an empty state with the same inputs. */
    async besideLegacyModule(configFile: string, inputs: { varFile: string; accountId: string }) {
      const [ours, legacy] = await Promise.all([
        plan({ configFile, ...inputs }),
        plan({ module: LEGACY_MODULE, ...inputs }),
      ]);
      return { ours: planJson(ours.result), legacy: planJson(legacy.result) };
    },
  };
}

/** The plan's JSON, or an error with Terraform's own output. */
export function planJson(result: PlanResult): TerraformPlanJson {
  if (result.code !== 0 || !result.json) throw new Error(`plan failed (exit ${result.code}):\n${result.stderr}`);
  return result.json;
}

/** Terraform's verdict (`no-op`, `create`, `update`, `replace`, ...) per managed address. */
export function verdicts(json: TerraformPlanJson): Record<string, string> {
  return Object.fromEntries(
    (json.resource_changes ?? []).filter((rc) => rc.mode === "managed").map((rc) => [rc.address, verdict(rc)]),
  );
}

/** The planned values per address, of the resources that `keep` accepts (default: all). */
export function plannedValues(
  json: TerraformPlanJson,
  keep: (r: PlannedResource) => boolean = () => true,
): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    (json.planned_values?.root_module.resources ?? []).filter(keep).map((r) => [r.address, r.values]),
  );
}

/** The resource changes of a plan, by address. */
export function changeOf(json: TerraformPlanJson, address: string) {
  const found = (json.resource_changes ?? []).find((rc) => rc.address === address);
  if (!found) throw new Error(`${address} is not in the plan`);
  return found;
}
