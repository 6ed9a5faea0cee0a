/**
 * The input variables that a plan runs with, as far as the offline harness
 * needs them to answer AWS reads (the region, the queue names): the
 * configuration's defaults, then `terraform.tfvars` and `*.auto.tfvars(.json)`
 * of the folder, then the var files in order, then `-var` values; later ones
 * win, as in Terraform. `.tf` and `.tfvars` files are read with HashiCorp's
 * grammar (stack/hcl.ts); `-var` values are taken as strings.
 */
import { readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { parseHcl } from "../stack/hcl.js";
import type { QueueSpec } from "./aws-responder.js";

export type Inputs = Record<string, unknown>;

/** `default` of each variable block: `{ name: { default } }` (JSON syntax) or `{ name: [{ default }] }` (hcl2json of .tf). */
function defaults(variables: unknown): Inputs {
  const out: Inputs = {};
  for (const [name, block] of Object.entries((variables ?? {}) as Record<string, unknown>)) {
    const body = (Array.isArray(block) ? block[0] : block) as { default?: unknown } | undefined;
    if (body && "default" in body) out[name] = body.default;
  }
  return out;
}

async function readVarFile(file: string): Promise<Inputs> {
  const text = readFileSync(file, "utf8");
  return file.endsWith(".json") ? (JSON.parse(text) as Inputs) : parseHcl(text, file);
}

/** The inputs a plan in `dir` gets from its configuration's defaults, its auto-loaded files and the given files and values. */
export async function planInputs(
  dir: string,
  options: { varFiles?: string[]; vars?: Record<string, string> } = {},
): Promise<Inputs> {
  const files = readdirSync(dir).sort();
  const inputs: Inputs = {};
  for (const file of files.filter((f) => f.endsWith(".tf.json") && !f.startsWith("override"))) {
    Object.assign(
      inputs,
      defaults((JSON.parse(readFileSync(join(dir, file), "utf8")) as { variable?: unknown }).variable),
    );
  }
  for (const file of files.filter((f) => f.endsWith(".tf"))) {
    Object.assign(inputs, defaults((await parseHcl(readFileSync(join(dir, file), "utf8"), file)).variable));
  }
  const auto = files.filter((f) => f === "terraform.tfvars" || /\.auto\.tfvars(\.json)?$/.test(f));
  const given = (options.varFiles ?? []).map((f) => (isAbsolute(f) ? f : join(dir, f)));
  for (const file of [...auto.map((f) => join(dir, f)), ...given]) Object.assign(inputs, await readVarFile(file));
  return { ...inputs, ...options.vars };
}

/** The region a plan with these inputs runs in (`aws_region`; the stack's default otherwise). */
export const regionOf = (inputs: Inputs): string =>
  typeof inputs.aws_region === "string" && inputs.aws_region ? inputs.aws_region : "us-east-2";

/**
 * The dead-letter queue name when `analysis_dlq_name` is empty: `<queue>-dlq`,
 * and `<queue without .fifo>-dlq.fifo` for a FIFO queue (a FIFO queue's
 * dead-letter queue is a FIFO queue, and those names end in `.fifo`).
 */
export function defaultDlqName(queue: string): string {
  return queue.endsWith(".fifo") ? `${queue.slice(0, -".fifo".length)}-dlq.fifo` : `${queue}-dlq`;
}

/**
 * The queues that exist for a plan with these inputs: the analysis queue
 * (`analysis_queue_name`), with a redrive policy to its dead-letter queue
 * (`analysis_dlq_name`, or `defaultDlqName`), and that dead-letter queue.
 */
export function queuesFor(inputs: Inputs): QueueSpec[] {
  const queue = inputs.analysis_queue_name;
  if (typeof queue !== "string" || !queue) return [];
  const explicit = inputs.analysis_dlq_name;
  const dlq = typeof explicit === "string" && explicit ? explicit : defaultDlqName(queue);
  return [{ name: queue, deadLetterQueue: dlq }, { name: dlq }];
}

/** The empty-ish stand-in of a variable type expression (`string`, `list(string)`, `map(number)`, ...). */
function standInOfType(type: string, name: string, region: string, accountId: string): unknown {
  const t = type.replace(/^\$\{(.*)\}$/s, "$1").replace(/\s+/g, "");
  if (t === "" || t === "any" || t === "string") {
    if (name.endsWith("_arn")) return `arn:aws:stand-in:${region}:${accountId}:variable/${name}`;
    return `stand-in-${name.replaceAll("_", "-")}`;
  }
  if (t === "number") return 1;
  if (t === "bool") return false;
  const collection = /^(list|set)\((.*)\)$/.exec(t);
  if (collection) return [standInOfType(collection[2], `${name}-1`, region, accountId)];
  if (/^map\(/.test(t)) return {};
  return undefined;
}

export interface StandInInputs {
  /** Values for the variables that have neither a default nor a given value. */
  values: Record<string, unknown>;
  /** Those that could not be given one (an object type): the plan needs a real value. */
  missing: string[];
}

/**
 * Stand-ins for the required variables that `inputs` (and `TF_VAR_*`) leave unset, so that a
 * configuration plans without its real inputs: ARN-shaped for `*_arn`, `stand-in-<name>` for
 * other strings, 1, false, one-element lists. Their `validation` rules do not hold for stand-ins:
 * `withoutValidation` drops them for a plan.
 */
export function standInInputs(
  variables: Record<string, { type?: unknown; default?: unknown }> | undefined,
  inputs: Inputs,
  where: { region: string; accountId: string },
  env: NodeJS.ProcessEnv = process.env,
): StandInInputs {
  const values: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const [name, block] of Object.entries(variables ?? {})) {
    if ("default" in (block ?? {}) || name in inputs || env[`TF_VAR_${name}`] !== undefined) continue;
    const value = standInOfType(String(block?.type ?? "string"), name, where.region, where.accountId);
    if (value === undefined) missing.push(name);
    else values[name] = value;
  }
  return { values, missing };
}

/** A stack's `variable` block without the `validation` rules of the named variables. */
export function withoutValidation<V extends Record<string, { validation?: unknown }>>(
  variables: V,
  names: string[],
): V {
  const out = { ...variables };
  for (const name of names) {
    if (out[name]) {
      const { validation: _rules, ...rest } = out[name];
      (out as Record<string, unknown>)[name] = rest;
    }
  }
  return out;
}
