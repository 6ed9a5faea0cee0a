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
  /** `terraform show -json` of the saved plan into `json`. Default: true. */
  show?: boolean;
  /** `-detailed-exitcode`: exit 2 (not 0) when the plan has changes; `changed` says so either way. */
  detailedExitcode?: boolean;
}

export interface PlanResult extends TerraformResult {
  /** `terraform show -json` of the saved plan, when the plan succeeded (and `show` was not false). */
  json?: TerraformPlanJson;
  /** With `detailedExitcode`: whether the plan has changes (exit 2). */
  changed?: boolean;
}

export interface ResourceChange {
  address: string;
  /** The address in the state before a `moved` block moved it. */
  previous_address?: string;
  module_address?: string;
  mode: "managed" | "data";
  type: string;
  name: string;
  /** `count` index or `for_each` key. */
  index?: string | number;
  provider_name?: string;
  change: {
    actions: string[];
    before: unknown;
    after: unknown;
    after_unknown?: unknown;
    before_sensitive?: unknown;
    after_sensitive?: unknown;
    replace_paths?: (string | number)[][];
  };
  action_reason?: string;
}

export interface OutputChange {
  actions: string[];
  before: unknown;
  after: unknown;
  after_unknown?: unknown;
  before_sensitive?: unknown;
  after_sensitive?: unknown;
}

export interface PlannedResource {
  address: string;
  mode: string;
  type: string;
  name: string;
  schema_version?: number;
  values: Record<string, unknown>;
}

/** An expression of the configuration as the plan's JSON describes it. */
export interface ConfigExpression {
  constant_value?: unknown;
  references?: string[];
}

export interface ConfiguredResource {
  address: string;
  mode: string;
  type: string;
  name: string;
  provider_config_key?: string;
  expressions?: Record<string, unknown>;
  depends_on?: string[];
}

export interface TerraformPlanJson {
  format_version: string;
  terraform_version?: string;
  resource_changes?: ResourceChange[];
  output_changes?: Record<string, OutputChange>;
  planned_values?: { root_module: { resources?: PlannedResource[] }; outputs?: Record<string, unknown> };
  prior_state?: {
    values?: { root_module?: { resources?: PlannedResource[] } };
  };
  configuration?: {
    root_module: {
      resources?: ConfiguredResource[];
      variables?: Record<string, unknown>;
      outputs?: Record<string, { expression?: ConfigExpression }>;
    };
  };
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
  if (options.detailedExitcode) args.push("-detailed-exitcode");
  for (const file of varFilesOf(options)) args.push(`-var-file=${file}`);
  for (const [key, value] of Object.entries(options.vars ?? {})) args.push(`-var=${key}=${value}`);
  const result = await terraform(dir, "plan", args);
  const changed = options.detailedExitcode ? result.code === 2 : undefined;
  if (result.code !== 0 && !changed) return result;
  const planned = { ...result, code: 0, changed };
  if (options.show === false) return planned;
  return { ...planned, json: await showPlan(dir) };
}

/** `terraform show -json` of the plan saved in `dir` (`tfplan`). */
export async function showPlan(dir: string, file = "tfplan"): Promise<TerraformPlanJson> {
  const shown = await terraformOk(dir, "show", ["-json", file]);
  return JSON.parse(shown.stdout) as TerraformPlanJson;
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
