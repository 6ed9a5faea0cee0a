import { readFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURES = join(import.meta.dirname, "..", "fixtures");
export const LEGACY = join(FIXTURES, "legacy");
export const LEGACY_MODULE = join(LEGACY, "compute");
export const LEGACY_STATE = join(LEGACY, "prod.tfstate");
export const LEGACY_TFVARS = join(LEGACY, "prod.tfvars");

interface StateResource {
  mode: "managed" | "data";
  type: string;
  name: string;
  instances: { attributes: Record<string, unknown> }[];
}

export interface StateFile {
  version: number;
  resources: StateResource[];
  outputs: Record<string, { value: unknown }>;
}

export function readState(file = LEGACY_STATE): StateFile {
  return JSON.parse(readFileSync(file, "utf8")) as StateFile;
}

/** Addresses in a state, `data.` prefixed for data sources, sorted. */
export function stateAddresses(state: StateFile): string[] {
  return state.resources.map((r) => (r.mode === "data" ? `data.${r.type}.${r.name}` : `${r.type}.${r.name}`)).sort();
}

/** What the worker's operations add to the legacy module (managed resources). */
export const WORKER_OPERATIONS_RESOURCES = [
  "aws_appautoscaling_policy.worker_backlog",
  "aws_appautoscaling_policy.worker_scale_from_zero",
  "aws_appautoscaling_target.worker",
  "aws_cloudwatch_metric_alarm.worker_backlog_without_workers",
  "aws_cloudwatch_metric_alarm.worker_dead_letters",
  "aws_cloudwatch_metric_alarm.worker_jobs_failing",
  "aws_cloudwatch_metric_alarm.worker_queue_age",
  "aws_cloudwatch_metric_alarm.worker_scale_from_zero",
  "aws_iam_role.worker_task",
  "aws_iam_role_policy.worker_task",
];
