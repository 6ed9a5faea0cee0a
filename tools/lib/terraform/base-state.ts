/**
 * A state that stands for a configuration nobody applied: what `terraform
 * state pull` would give after applying it, with stand-ins (stand-ins.ts) for
 * what only AWS knows. Terraform builds it, in three steps:
 *
 * 1. `inlineReferences`: a copy of the configuration in which every reference
 *    to a managed resource's attribute is replaced by that attribute's value:
 *    its expression where the configuration sets it, its stand-in where it is
 *    computed. Nothing then waits for a resource, so a plan of the copy against
 *    an empty state knows every value but the resources' own computed ones, and
 *    reads every data source (Terraform defers a data source that depends on a
 *    resource with pending changes).
 * 2. `stateFromPlan`: that plan's values, its unknowns filled with stand-ins
 *    (the same ones the references were given), as a state (format 4).
 * 3. The caller plans the real configuration against it: "No changes" proves
 *    the state stands for it. Otherwise `mergePlan` takes the plan's known
 *    values into the state and the caller plans again (a few rounds at most).
 */
import { createHash } from "node:crypto";
import type { Json, StackJson } from "../stack/read.js";
import { interpolations, referencesIn } from "../stack/references.js";
import type { StateFile, StateResource } from "../state/read.js";
import type { TerraformPlanJson } from "./plan.js";
import type { BlockSchema, ProviderSchemas } from "./schema.js";
import { type StandInContext, standInFor } from "./stand-ins.js";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Blocks of a synthesized stack whose strings may hold references (not `terraform`, `variable`, `moved`...). */
const EVALUATED = ["resource", "data", "output", "locals", "provider", "module"] as const;
/** Keys inside a resource or data block that are not expressions to rewrite. */
const NOT_EXPRESSIONS = new Set(["//", "lifecycle", "provisioner", "connection", "depends_on", "provider"]);

const TRAVERSAL =
  /(?<![\w.-])([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z_][\w-]*)\.([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*|\[[^\]]*\])*)/g;

export interface InlineResult {
  json: StackJson;
  /** The references replaced, `aws_iam_role.task.arn` → how. */
  replaced: Map<string, "expression" | "stand-in" | "null">;
}

/**
 * The configuration with every reference to a managed resource's attribute replaced by its value
 * (see the module's comment); data sources lose the managed resources of their `depends_on`.
 */
export function inlineReferences(stack: StackJson, schemas: ProviderSchemas, ctx: StandInContext): InlineResult {
  const resources = new Map<string, { type: string; name: string; block: Record<string, Json> }>();
  for (const [type, byName] of Object.entries(stack.resource ?? {})) {
    for (const [name, block] of Object.entries(byName ?? {})) {
      if (isObject(block)) resources.set(`${type}.${name}`, { type, name, block: block as Record<string, Json> });
    }
  }
  const replaced = new Map<string, "expression" | "stand-in" | "null">();
  const resolving = new Set<string>();

  /** The value of `type.name.attribute` for a plan that creates everything, or undefined to keep the reference. */
  const resolved = (key: string, attribute: string): { value: Json } | undefined => {
    const resource = resources.get(key);
    if (!resource || resource.block.count !== undefined || resource.block.for_each !== undefined) return undefined;
    const ref = `${key}.${attribute}`;
    if (resolving.has(ref)) return undefined;
    const schema = schemas[resource.type]?.block;
    if (attribute in resource.block && !NOT_EXPRESSIONS.has(attribute)) {
      resolving.add(ref);
      try {
        replaced.set(ref, "expression");
        return { value: rewrite(resource.block[attribute]) };
      } finally {
        resolving.delete(ref);
      }
    }
    const spec = schema?.attributes[attribute];
    if (!spec) return undefined;
    if (!spec.computed) {
      replaced.set(ref, "null");
      return { value: null };
    }
    const knownName = attribute === "id" && "name" in resource.block ? resolved(key, "name")?.value : undefined;
    replaced.set(ref, "stand-in");
    return {
      value: standInFor({ type: resource.type, name: resource.name, knownName }, [attribute], schema, ctx) as Json,
    };
  };

  /** An interpolation's expression with each resource traversal replaced (HCL text). */
  const rewriteExpression = (expression: string): string =>
    expression.replace(TRAVERSAL, (match, type: string, name: string, attribute: string, rest: string) => {
      const found = resolved(`${type}.${name}`, attribute);
      if (!found) return match;
      return `(${JSON.stringify(found.value)})${rest}`;
    });

  const rewriteString = (text: string): Json => {
    const spans = interpolations(text);
    if (spans.length === 0) return text;
    // The whole string is one reference: its value, whatever its type (as Terraform's JSON syntax reads it).
    if (spans.length === 1 && spans[0].start === 0 && spans[0].end === text.length) {
      const inner = text.slice(2, -1).trim();
      const whole = new RegExp(`^${TRAVERSAL.source}$`).exec(inner);
      if (whole && !whole[4]) {
        const found = resolved(`${whole[1]}.${whole[2]}`, whole[3]);
        if (found) return found.value;
      }
    }
    let out = "";
    let last = 0;
    for (const { start, end } of spans) {
      out += text.slice(last, start);
      const inner = text.slice(start + 2, end - 1);
      const whole = new RegExp(`^\\s*${TRAVERSAL.source}\\s*$`).exec(inner);
      const found = whole && !whole[4] ? resolved(`${whole[1]}.${whole[2]}`, whole[3]) : undefined;
      // A string value spliced into the template keeps its own interpolations.
      if (found && typeof found.value === "string") out += found.value;
      else out += `\${${rewriteExpression(inner)}}`;
      last = end;
    }
    return out + text.slice(last);
  };

  const rewrite = (value: Json): Json => {
    if (typeof value === "string") return rewriteString(value);
    if (Array.isArray(value)) return value.map(rewrite);
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v as Json)]));
    return value;
  };

  const rewriteBlock = (block: Json): Json =>
    isObject(block)
      ? Object.fromEntries(
          Object.entries(block).map(([k, v]) => [k, NOT_EXPRESSIONS.has(k) ? (v as Json) : rewrite(v as Json)]),
        )
      : block;

  const json = structuredClone(stack) as Record<string, Json>;
  for (const section of EVALUATED) {
    const blocks = json[section];
    if (!isObject(blocks)) continue;
    if (section === "resource" || section === "data") {
      for (const byName of Object.values(blocks)) {
        if (!isObject(byName)) continue;
        for (const [name, block] of Object.entries(byName)) {
          const next = rewriteBlock(block as Json) as Record<string, Json>;
          if (section === "data" && Array.isArray(next.depends_on)) {
            next.depends_on = next.depends_on.filter(
              (d) => typeof d !== "string" || !resources.has(d.replace(/^\$\{|\}$/g, "")),
            );
          }
          byName[name] = next;
        }
      }
    } else if (section === "locals") {
      json.locals = rewrite(blocks as Json);
    } else {
      for (const [name, block] of Object.entries(blocks)) {
        blocks[name] = Array.isArray(block) ? block.map(rewriteBlock) : rewriteBlock(block as Json);
      }
    }
  }
  return { json: json as StackJson, replaced };
}

/** Attribute paths of a value that are true in a plan's `after_unknown` (or `after_sensitive`). */
function truePaths(marks: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (marks === true) return [path];
  if (Array.isArray(marks)) return marks.flatMap((m, i) => truePaths(m, [...path, i]));
  if (isObject(marks)) return Object.entries(marks).flatMap(([k, m]) => truePaths(m, [...path, k]));
  return [];
}

/** `after` with every unknown filled: from `previous` where it has a value there, else with a stand-in. */
function fill(
  after: unknown,
  unknown: unknown,
  resource: { type: string; name: string },
  schema: BlockSchema | undefined,
  ctx: StandInContext,
  previous?: unknown,
): { value: Record<string, unknown>; standIns: string[] } {
  const value = structuredClone(isObject(after) ? after : {}) as Record<string, unknown>;
  const standIns: string[] = [];
  const paths = truePaths(unknown).sort((a, b) => a.length - b.length);
  // `id` first: other stand-ins do not depend on it, but the name-form id needs the name.
  for (const path of paths) {
    const before = getPath(previous, path);
    let filled: unknown;
    if (before !== undefined) filled = before;
    else {
      const names = path.filter((p): p is string => typeof p === "string");
      filled = standInFor({ ...resource, knownName: value.name }, names, schema, ctx);
      standIns.push(pathText(path));
    }
    setPath(value, path, filled);
  }
  return { value, standIns };
}

const pathText = (path: (string | number)[]) =>
  path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");

function getPath(value: unknown, path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current === null ? undefined : current;
}

function setPath(value: Record<string, unknown>, path: (string | number)[], next: unknown): void {
  let current: Record<string | number, unknown> = value;
  for (let i = 0; i < path.length - 1; i++) {
    const step = path[i];
    if (current[step] === null || typeof current[step] !== "object") {
      current[step] = typeof path[i + 1] === "number" ? [] : {};
    }
    current = current[step] as Record<string | number, unknown>;
  }
  current[path[path.length - 1]] = next;
}

/** A state's `sensitive_attributes`: the paths that `after_sensitive` marks, as Terraform writes them. */
function sensitivePaths(marks: unknown): { type: string; value: string | number }[][] {
  return truePaths(marks).map((path) =>
    path.map((step) => (typeof step === "number" ? { type: "index", value: step } : { type: "get_attr", value: step })),
  );
}

export interface StandInState {
  state: StateFile;
  /** Per address, the attribute paths that hold stand-ins (values only AWS would know). */
  standIns: Record<string, string[]>;
}

const providerOf = (name: string, configKey?: string) => {
  const alias = configKey?.includes(".") ? `.${configKey.split(".").slice(1).join(".")}` : "";
  return `provider["${name}"]${alias}`;
};

/**
 * What a state records as each resource's `dependencies`: the managed resources its block refers to
 * (through locals and data sources too) and those of its `depends_on`, as Terraform records them on
 * apply. Terraform orders destroys by them (and finds create-before-destroy cycles with them).
 */
export function stateDependencies(stack: StackJson): Map<string, string[]> {
  const types = new Set(Object.keys(stack.resource ?? {}));
  const locals = (stack.locals ?? {}) as Record<string, Json>;
  const data = new Map<string, Json>();
  for (const [type, byName] of Object.entries(stack.data ?? {})) {
    for (const [name, block] of Object.entries(byName ?? {})) data.set(`data.${type}.${name}`, block as Json);
  }
  const out = new Map<string, string[]>();
  for (const [type, byName] of Object.entries(stack.resource ?? {})) {
    for (const [name, raw] of Object.entries(byName ?? {})) {
      const address = `${type}.${name}`;
      const { "//": _meta, lifecycle: _lifecycle, ...block } = (raw ?? {}) as Record<string, Json>;
      const found = new Set<string>();
      const seen = new Set<string>();
      const queue = [...referencesIn(block, types)];
      for (const d of Array.isArray(block.depends_on) ? block.depends_on : []) {
        if (typeof d === "string") queue.push(d.replace(/^\$\{|\}$/g, ""));
      }
      while (queue.length) {
        const ref = queue.shift() as string;
        if (seen.has(ref)) continue;
        seen.add(ref);
        if (ref.startsWith("local.")) queue.push(...referencesIn(locals[ref.slice(6)], types));
        else if (ref.startsWith("data.")) queue.push(...referencesIn(data.get(ref), types));
        else if (!ref.startsWith("var.") && ref !== address) found.add(ref);
      }
      out.set(address, [...found].sort());
    }
  }
  return out;
}

const EMPTY_LINEAGE_SEED = "cricksy-infra stand-in state";

/** A deterministic lineage (a UUID's shape) from a seed: the same configuration gets the same state. */
function lineageOf(seed: string): string {
  const hash = createHash("sha256").update(seed).digest("hex");
  return `${hash.slice(0, 8)}-${hash.slice(8, 12)}-4${hash.slice(13, 16)}-8${hash.slice(17, 20)}-${hash.slice(20, 32)}`;
}

/** An empty state (format 4) with a lineage derived from `seed`. */
export function emptyState(seed = EMPTY_LINEAGE_SEED, terraformVersion = "1.9.0"): StandInState {
  return {
    state: {
      version: 4,
      terraform_version: terraformVersion,
      serial: 0,
      lineage: lineageOf(seed),
      outputs: {},
      resources: [],
    },
    standIns: {},
  };
}

const instanceAddress = (r: StateResource, index?: string | number) =>
  `${r.module ? `${r.module}.` : ""}${r.type}.${r.name}${index === undefined ? "" : `[${JSON.stringify(index)}]`}`;

/**
 * The state after a plan, as far as the plan knows it: what it creates is added (its planned values,
 * stand-ins where Terraform says "known after apply"), what it updates or replaces takes its planned
 * values (its unknowns keep the state's values, or get stand-ins), what it deletes goes, and the
 * outputs take their planned values. Nothing is asked of AWS: this is how the stand-in state is made
 * (from an empty state) and fixed up (when the configuration does not yet plan "No changes" against it).
 */
export function applyPlan(
  current: StandInState,
  plan: TerraformPlanJson,
  schemas: ProviderSchemas,
  ctx: StandInContext,
  dependencies: Map<string, string[]> = new Map(),
): StandInState {
  const state = structuredClone(current.state);
  const standIns = structuredClone(current.standIns);
  const configKeys = new Map(
    (plan.configuration?.root_module.resources ?? []).map((r) => [r.address, r.provider_config_key]),
  );
  const versions = new Map(
    (plan.planned_values?.root_module.resources ?? []).map((r) => [r.address, r.schema_version]),
  );
  const find = (address: string) => {
    for (const resource of state.resources) {
      for (const instance of resource.instances) {
        if (instanceAddress(resource, instance.index_key) === address) return { resource, instance };
      }
    }
    return undefined;
  };
  for (const rc of plan.resource_changes ?? []) {
    const actions = rc.change.actions.join(",");
    if (rc.mode !== "managed" || actions === "no-op" || actions === "read") continue;
    const schema = schemas[rc.type];
    const existing = find(rc.address) ?? (rc.previous_address ? find(rc.previous_address) : undefined);
    if (actions === "delete" || actions === "forget") {
      if (existing) {
        existing.resource.instances = existing.resource.instances.filter((i) => i !== existing.instance);
        state.resources = state.resources.filter((r) => r.instances.length > 0);
      }
      delete standIns[rc.address];
      continue;
    }
    const filled = fill(
      rc.change.after,
      rc.change.after_unknown,
      rc,
      schema?.block,
      ctx,
      existing?.instance.attributes,
    );
    const marks = sensitivePaths(rc.change.after_sensitive);
    if (existing && (!rc.previous_address || rc.previous_address === rc.address)) {
      existing.instance.attributes = filled.value;
      existing.instance.sensitive_attributes = marks;
      existing.instance.dependencies = dependencies.get(rc.address.replace(/\[[^\]]*\]$/, "")) ?? [];
      if (versions.has(rc.address)) existing.instance.schema_version = versions.get(rc.address);
      if (filled.standIns.length) {
        standIns[rc.address] = [...new Set([...(standIns[rc.address] ?? []), ...filled.standIns])];
      }
      continue;
    }
    if (existing) {
      // Moved: the object leaves its old address.
      existing.resource.instances = existing.resource.instances.filter((i) => i !== existing.instance);
      state.resources = state.resources.filter((r) => r.instances.length > 0);
    }
    let resource = state.resources.find(
      (r) =>
        (r.module ?? "") === (rc.module_address ?? "") &&
        r.mode === "managed" &&
        r.type === rc.type &&
        r.name === rc.name,
    );
    if (!resource) {
      const base = rc.address.replace(/\[[^\]]*\]$/, "");
      resource = {
        ...(rc.module_address ? { module: rc.module_address } : {}),
        mode: "managed",
        type: rc.type,
        name: rc.name,
        provider: providerOf(rc.provider_name ?? "registry.terraform.io/hashicorp/aws", configKeys.get(base)),
        instances: [],
      };
      state.resources.push(resource);
    }
    resource.instances.push({
      ...(rc.index !== undefined ? { index_key: rc.index } : {}),
      schema_version: versions.get(rc.address) ?? schema?.version ?? 0,
      attributes: filled.value,
      sensitive_attributes: marks,
      dependencies: dependencies.get(rc.address.replace(/\[[^\]]*\]$/, "")) ?? [],
    });
    if (filled.standIns.length) standIns[rc.address] = filled.standIns;
  }
  state.resources.sort((a, b) => instanceAddress(a).localeCompare(instanceAddress(b)));
  for (const [name, change] of Object.entries(plan.output_changes ?? {})) {
    const actions = change.actions.join(",");
    if (actions === "no-op") continue;
    if (actions === "delete") {
      delete state.outputs?.[name];
      continue;
    }
    if (change.after_unknown === true) continue;
    const type = (plan.planned_values?.outputs?.[name] as { type?: unknown } | undefined)?.type;
    if (type !== undefined) {
      state.outputs = {
        ...state.outputs,
        [name]: { value: change.after, type, sensitive: change.after_sensitive === true },
      };
    }
  }
  state.serial = (state.serial ?? 0) + 1;
  if (plan.terraform_version) state.terraform_version = plan.terraform_version;
  return { state, standIns };
}
