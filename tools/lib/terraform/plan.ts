/**
 * `terraform plan` and what it says: the plan's JSON (`terraform show -json`),
 * and Terraform's verdict per address.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type TerraformResult, terraform, terraformOk } from "./run.js";

export interface PlanOptions {
  /** A var file (relative to the plan's folder, or absolute); before `varFiles`. */
  varFile?: string;
  /** Var files, in order (relative ones to the plan's folder). */
  varFiles?: string[];
  /** `-var name=value`, after the files. */
  vars?: Record<string, string>;
  /** Refresh the state's objects from AWS first. Default: false (offline). */
  refresh?: boolean;
}

export interface PlanResult extends TerraformResult {
  /** `terraform show -json` of the saved plan, when the plan succeeded. */
  json?: TerraformPlanJson;
}

export interface ResourceChange {
  address: string;
  mode: "managed" | "data";
  type: string;
  name: string;
  change: {
    actions: string[];
    before: unknown;
    after: unknown;
    after_unknown?: unknown;
    replace_paths?: unknown[][];
  };
  action_reason?: string;
}

export interface PlannedResource {
  address: string;
  mode: string;
  type: string;
  name: string;
  values: Record<string, unknown>;
}

export interface TerraformPlanJson {
  format_version: string;
  resource_changes?: ResourceChange[];
  output_changes?: Record<string, { actions: string[]; before: unknown; after: unknown }>;
  planned_values?: { root_module: { resources?: PlannedResource[] }; outputs?: Record<string, unknown> };
  configuration?: { root_module: { resources?: { address: string }[]; variables?: Record<string, unknown> } };
}

/** `varFile` and `varFiles`, in order. */
export const varFilesOf = (options: PlanOptions): string[] => [
  ...(options.varFile ? [options.varFile] : []),
  ...(options.varFiles ?? []),
];

/**
 * `terraform init` (once per folder), `terraform plan -out`, then the plan as JSON. Never throws on a
 * failed plan. In an offline workdir, call `workdir.plan` instead: it also sets the loopback AWS up
 * for the plan's inputs.
 */
export async function plan(dir: string, options: PlanOptions = {}): Promise<PlanResult> {
  if (!existsSync(join(dir, ".terraform"))) await terraformOk(dir, "init", ["-input=false"]);
  const args = ["-input=false", "-lock=false", "-out=tfplan", `-refresh=${options.refresh ?? false}`];
  for (const file of varFilesOf(options)) args.push(`-var-file=${file}`);
  for (const [key, value] of Object.entries(options.vars ?? {})) args.push(`-var=${key}=${value}`);
  const result = await terraform(dir, "plan", args);
  if (result.code !== 0) return result;
  const shown = await terraformOk(dir, "show", ["-json", "tfplan"]);
  return { ...result, json: JSON.parse(shown.stdout) as TerraformPlanJson };
}

export type Verdict = "no-op" | "create" | "read" | "update" | "replace" | "delete";

/** Terraform's verdict on one address: its actions in one word (`delete,create` and `create,delete` are `replace`). */
export function verdict(rc: ResourceChange): Verdict | string {
  const actions = rc.change.actions.join(",");
  if (actions === "delete,create" || actions === "create,delete") return "replace";
  return actions;
}

/** Resource changes that are not a no-op (reads of data sources excluded). */
export function effectiveChanges(planJson: TerraformPlanJson): ResourceChange[] {
  return (planJson.resource_changes ?? []).filter((rc) => rc.mode === "managed" && verdict(rc) !== "no-op");
}

/**
 * Types whose replacement is the normal way they change: an ECS task definition
 * gets a new revision, nothing that serves traffic is lost.
 */
export const REPLACED_BY_DESIGN = new Set(["aws_ecs_task_definition"]);

/** The plan deletes the object: a delete, or a replace of a type that is not replaced by design. */
export function destroysObject(rc: ResourceChange): boolean {
  if (rc.mode !== "managed" || !rc.change.actions.includes("delete")) return false;
  return !(rc.change.actions.includes("create") && REPLACED_BY_DESIGN.has(rc.type));
}
