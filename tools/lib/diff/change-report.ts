/**
 * What a change of the synthesized stack does, as Terraform says it: per
 * address, Terraform's verdict (create, update with the attribute paths,
 * replace with the attributes that force it, delete, move, a new task
 * definition revision), the causes that reach each resource (its own
 * configuration, a variable's default, a local, a data source, another
 * resource's replacement), and around it what a static comparison of the two
 * synths knows (backend, variables, locals, providers, the security section).
 *
 * The verdicts come from a plan of the head against a state in which the base
 * is applied (terraform/change-plan.ts); nothing here decides what Terraform
 * would do.
 */
import { proposeMoves } from "../stack/moves.js";
import { elements, type Json, type StackJson } from "../stack/read.js";
import { referencesIn } from "../stack/references.js";
import type { ChangePlan } from "../terraform/change-plan.js";
import { REPLACED_BY_DESIGN, type ResourceChange, type TerraformPlanJson } from "../terraform/plan.js";
import { attributeAt, type BlockSchema, type ProviderSchemas } from "../terraform/schema.js";
import { type AddressChange, diffStacks, type NamedChange, type SecurityDiff, type StackDiff } from "./stack-diff.js";
import { type AttributeChange, diffValues } from "./values.js";

/** Types whose destroy loses data that Terraform cannot bring back, and what is lost. */
export const STATEFUL_TYPES: Record<string, string> = {
  aws_cloudwatch_log_group: "its log events are deleted",
  aws_s3_bucket: "its objects are deleted (or the destroy fails on a non-empty bucket)",
  aws_dynamodb_table: "its items are deleted",
  aws_db_instance: "the database is deleted",
  aws_rds_cluster: "the database cluster is deleted",
  aws_efs_file_system: "its files are deleted",
  aws_sqs_queue: "its messages are deleted",
  aws_kms_key: "data encrypted with it becomes unreadable after the waiting period",
  aws_secretsmanager_secret: "the secret value is deleted after the recovery window",
  aws_ecr_repository: "its images are deleted",
  aws_elasticache_cluster: "its cached data is lost",
  aws_elasticache_replication_group: "its cached data is lost",
  aws_sns_topic: "its subscriptions are deleted (subscribers must subscribe and confirm again)",
  aws_kinesis_stream: "its records are deleted",
  aws_opensearch_domain: "its indices are deleted",
};

export type Action = "create" | "update" | "replace" | "delete" | "move" | "forget";

export interface ResourceVerdict {
  address: string;
  type: string;
  action: Action;
  /** Terraform's own actions for it (`["delete","create"]`, `["no-op"]` for a move). */
  actions: string[];
  /** A replacement that is how the type changes (a task definition's new revision): not a destroy. */
  newRevision?: boolean;
  /** The address it had (a `moved` block). */
  previousAddress?: string;
  /** Terraform's reason, where it gives one (`delete_because_no_resource_config`, `replace_because_tainted`, ...). */
  reason?: string;
  /** The attributes that force the replacement. */
  replacePaths?: string[];
  /** Changed attribute paths (`unknown`: the new value is known only after apply). */
  attributes: AttributeChange[];
  /** What reaches it: `configuration` (its own block), `var.x`, `local.x`, `data.t.n`, `provider.aws`. */
  causes: string[];
  /** Resources replaced, created or deleted whose change this one follows. */
  cascadeFrom?: string[];
  /** Why losing the object hurts (replace or delete of a stateful type). */
  stateful?: string;
  /** Changed attributes whose base value is a stand-in (only AWS knows the real one). */
  standIn?: string[];
  /** With a real state: the base plans the same change against it (not this change's doing). */
  pendingInBase?: boolean;
}

export interface Cause {
  /** `var.project_name`, `local.common_tags`, `data.aws_iam_policy_document.task`, `provider.aws`. */
  address: string;
  action: "create" | "update" | "destroy";
  attributes: AttributeChange[];
  /** The resources it reaches that Terraform changes. */
  reaches: string[];
}

export interface OutputVerdict {
  name: string;
  action: "create" | "update" | "delete" | "definition";
  old?: unknown;
  new?: unknown;
  unknown?: boolean;
  attributes?: AttributeChange[];
}

export interface ChangeReport {
  base: string;
  head: string;
  verdicts: {
    /** `terraform`: a plan of the head against `against`; `identical`: the two synths are the same, no plan needed. */
    engine: "terraform" | "identical";
    against?: "stand-in state" | "state";
    state?: string;
    /** Plans of the base against its stand-in state until "No changes". */
    rounds?: number;
    terraformVersion?: string;
  };
  backend?: StackDiff["backend"];
  resources: ResourceVerdict[];
  /** Deletes and creates of one type that look like one object under a new name (no moved block). */
  addressChanges: AddressChange[];
  /** Each replaced, created or deleted resource that other changes follow, with what follows it. */
  cascades: { from: string; action: Action; reaches: { address: string; action: Action }[] }[];
  /** Changes outside resources that reach resources through references (named once here). */
  causes: Cause[];
  /** Resource blocks that changed, for which Terraform plans no change. */
  withoutEffect: { address: string; attributes: AttributeChange[] }[];
  outputs: OutputVerdict[];
  variables: NamedChange[];
  providers: NamedChange[];
  locals: NamedChange[];
  security: SecurityDiff;
  /** What the verdicts could not know (values known after apply, stand-ins, offline reads). */
  couldNotKnow: string[];
  summary: {
    create: number;
    update: number;
    replace: number;
    newRevision: number;
    delete: number;
    move: number;
    forget: number;
    /** Replaces (not new revisions) and deletes: what `--fail-on destroy` counts. */
    destroy: number;
    statefulDestroy: number;
    addressChanges: number;
    backendChanged: boolean;
    security: number;
    outputs: number;
    /** Variables and providers that changed. */
    other: number;
    /** Locals, data sources and resource blocks that changed without effect (Terraform plans no change for them). */
    withoutEffect: number;
    changed: boolean;
  };
}

/** The kinds `--fail-on` takes, and how many of each a report holds. */
export const FAIL_KINDS = {
  destroy: (r: ChangeReport) => r.summary.destroy,
  stateful: (r: ChangeReport) => r.summary.statefulDestroy,
  address: (r: ChangeReport) => r.summary.addressChanges,
  backend: (r: ChangeReport) => (r.summary.backendChanged ? 1 : 0),
  security: (r: ChangeReport) => r.summary.security,
  any: (r: ChangeReport) => (r.summary.changed ? 1 : 0),
} as const;
export type FailKind = keyof typeof FAIL_KINDS;

/** The addresses a kind of `--fail-on` trips on, for its message. */
export function failingAddresses(report: ChangeReport, kind: FailKind): string[] {
  const destroys = report.resources.filter((r) => (r.action === "replace" && !r.newRevision) || r.action === "delete");
  if (kind === "destroy") return destroys.map((r) => r.address).sort();
  if (kind === "stateful")
    return destroys
      .filter((r) => r.stateful)
      .map((r) => r.address)
      .sort();
  if (kind === "address") return report.addressChanges.map((c) => `${c.from} → ${c.to}`);
  return [];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const SENTINEL = "\u0000known-after-apply";

/** `after` with `(known after apply)` markers where `after_unknown` says so. */
function withUnknowns(after: unknown, unknown: unknown): unknown {
  if (unknown === true) return SENTINEL;
  if (Array.isArray(unknown)) {
    const list = Array.isArray(after) ? [...after] : [];
    unknown.forEach((u, i) => {
      if (u !== false) list[i] = withUnknowns(list[i], u);
    });
    return list;
  }
  if (isObject(unknown)) {
    const object = isObject(after) ? { ...after } : {};
    for (const [k, u] of Object.entries(unknown)) if (u !== false) object[k] = withUnknowns(object[k], u);
    return object;
  }
  return after;
}

/** Sensitive values masked: `(sensitive)`, and `(sensitive, changed)` for an after that differs. */
function masked(before: unknown, after: unknown, beforeMarks: unknown, afterMarks: unknown): [unknown, unknown] {
  if (beforeMarks === true || afterMarks === true) {
    const same = JSON.stringify(before) === JSON.stringify(after);
    return ["(sensitive)", same ? "(sensitive)" : "(sensitive, changed)"];
  }
  const marks = (m: unknown, k: string | number) =>
    Array.isArray(m) ? m[k as number] : isObject(m) ? m[k as string] : undefined;
  if (Array.isArray(before) || Array.isArray(after)) {
    const a = Array.isArray(before) ? [...before] : before;
    const b = Array.isArray(after) ? [...after] : after;
    const n = Math.max(Array.isArray(a) ? a.length : 0, Array.isArray(b) ? b.length : 0);
    for (let i = 0; i < n; i++) {
      const [x, y] = masked(
        Array.isArray(a) ? a[i] : undefined,
        Array.isArray(b) ? b[i] : undefined,
        marks(beforeMarks, i),
        marks(afterMarks, i),
      );
      if (Array.isArray(a) && i < a.length) a[i] = x;
      if (Array.isArray(b) && i < b.length) b[i] = y;
    }
    return [a, b];
  }
  if (isObject(before) || isObject(after)) {
    const a = isObject(before) ? { ...before } : before;
    const b = isObject(after) ? { ...after } : after;
    for (const k of new Set([...Object.keys(isObject(a) ? a : {}), ...Object.keys(isObject(b) ? b : {})])) {
      const [x, y] = masked(
        isObject(a) ? a[k] : undefined,
        isObject(b) ? b[k] : undefined,
        marks(beforeMarks, k),
        marks(afterMarks, k),
      );
      if (isObject(a) && k in a) a[k] = x;
      if (isObject(b) && k in b) b[k] = y;
    }
    return [a, b];
  }
  return [before, after];
}

/** The top-level attribute of a path: `container_definitions` of `container_definitions[0].cpu`. */
const topOf = (path: string) => path.split(/[.[]/)[0];

/** A replace path as text: `setting[0].value`. */
const pathText = (path: (string | number)[]) =>
  path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");

function actionOf(rc: ResourceChange): Action | undefined {
  const a = rc.change.actions.join(",");
  if (a === "create") return "create";
  if (a === "update") return rc.previous_address ? "update" : "update";
  if (a === "delete,create" || a === "create,delete") return "replace";
  if (a === "delete") return "delete";
  if (a === "forget") return "forget";
  if (a === "no-op" && rc.previous_address && rc.previous_address !== rc.address) return "move";
  return undefined;
}

/** Whether a top-level attribute or block of a resource type is a set (its elements have no order). */
function isSet(schema: BlockSchema | undefined, key: string): boolean {
  if (!schema) return false;
  const type = schema.attributes[key]?.type;
  if (Array.isArray(type)) return type[0] === "set";
  return schema.blocks[key]?.nesting === "set";
}

/** Whether a set's element after the change is the one before (its values known after apply match any). */
function sameElement(before: unknown, after: unknown): boolean {
  if (after === SENTINEL) return true;
  if (Array.isArray(after)) {
    return Array.isArray(before) && before.length === after.length && after.every((a, i) => sameElement(before[i], a));
  }
  if (isObject(after)) {
    if (!isObject(before)) return false;
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].every((k) => sameElement(before[k], after[k]));
  }
  return JSON.stringify(before) === JSON.stringify(after);
}

/**
 * `diffValues`, but a set (security group rules, a policy's statements as the provider keeps them) is
 * compared as a set: the elements taken away and those added, not its elements position by position
 * (Terraform sorts a set's elements by their hash, so one new rule shifts the others).
 */
function setAwareDiff(before: unknown, after: unknown, schema: BlockSchema | undefined): AttributeChange[] {
  if (!isObject(before) || !isObject(after)) return diffValues(before, after);
  const sets = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (k) => isSet(schema, k) && Array.isArray(before[k]) && Array.isArray(after[k]),
  );
  const rest = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !sets.includes(k)));
  const changes = diffValues(rest(before), rest(after));
  for (const key of sets) {
    const was = before[key] as unknown[];
    const now = after[key] as unknown[];
    for (const e of was.filter((x) => !now.some((y) => sameElement(x, y)))) changes.push({ path: key, old: e });
    for (const e of now.filter((y) => !was.some((x) => sameElement(x, y)))) changes.push({ path: key, new: e });
  }
  // In the order of their attributes (a stable sort: each attribute's own paths keep theirs).
  const order = (c: AttributeChange) => topOf(c.path);
  return changes.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

/** The attribute changes of one resource change: decoded JSON, unknowns marked, sensitive values masked. */
function attributeChanges(rc: ResourceChange, schemas: ProviderSchemas, standIns: string[]): AttributeChange[] {
  const [before, after] = masked(
    rc.change.before ?? {},
    withUnknowns(rc.change.after ?? {}, rc.change.after_unknown),
    rc.change.before_sensitive,
    rc.change.after_sensitive,
  );
  const schema = schemas[rc.type]?.block;
  const standInTops = new Set(standIns.map(topOf));
  return setAwareDiff(before, after, schema)
    .map((c): AttributeChange => (c.new === SENTINEL ? { path: c.path, old: c.old, unknown: true } : c))
    .filter((c) => {
      if (!c.unknown) return true;
      // A computed attribute recomputed on a replace (its id, ARN), or a stand-in the plan recomputes: noise.
      const top = topOf(c.path);
      const keys = c.path.split(/[.[\]]+/).filter((k) => k && !/^\d+$/.test(k) && !k.startsWith('"'));
      const spec = schema ? attributeAt(schema, keys) : undefined;
      if (spec?.computed && !spec.optional) return false;
      return !(spec?.computed && standInTops.has(top));
    });
}

interface Sides {
  base: { source: string; json: StackJson };
  head: { source: string; json: StackJson };
}

/**
 * The base with the moves Terraform made (moved blocks) applied to its addresses, so that the static
 * comparison sees a moved resource as the same resource (no destroy and create, no security change).
 */
function withMoves(json: StackJson, moves: { from: string; to: string }[]): StackJson {
  if (!moves.length) return json;
  let text = JSON.stringify(json);
  for (const { from, to } of moves) text = text.replaceAll(`${from}.`, `${to}.`).replaceAll(`"${from}"`, `"${to}"`);
  const moved = JSON.parse(text) as StackJson;
  for (const { from, to } of moves) {
    const [type, name] = from.split(".");
    const blocks = moved.resource?.[type];
    if (blocks && name in blocks) {
      blocks[to.split(".")[1]] = blocks[name];
      delete blocks[name];
    }
  }
  return moved;
}

export async function changeReport(
  sides: Sides,
  plan: ChangePlan | undefined,
  statePath?: string,
): Promise<ChangeReport> {
  const moves = (plan?.head.resource_changes ?? [])
    .filter((rc) => rc.mode === "managed" && rc.previous_address && rc.previous_address !== rc.address)
    .filter((rc) => !rc.previous_address?.includes("[") && !rc.address.includes("[") && !rc.module_address)
    .map((rc) => ({ from: rc.previous_address as string, to: rc.address }));
  const staticDiff = await diffStacks({ ...sides.base, json: withMoves(sides.base.json, moves) }, sides.head);
  const baseElements = elements(sides.base.json);
  const headElements = elements(sides.head.json);
  const managedTypes = new Set(
    [...baseElements.values(), ...headElements.values()].filter((e) => e.mode === "managed").map((e) => e.type),
  );

  const headPlan: TerraformPlanJson | undefined = plan?.head;
  const changes = (headPlan?.resource_changes ?? []).filter((rc) => rc.mode === "managed");
  const baseChanges = new Map(
    (plan?.base?.resource_changes ?? []).filter((rc) => rc.mode === "managed").map((rc) => [rc.address, rc]),
  );
  const resources: ResourceVerdict[] = [];
  for (const rc of changes) {
    const action = actionOf(rc);
    if (!action) continue;
    const standIns = plan?.standIns[rc.previous_address ?? rc.address] ?? [];
    const attributes =
      action === "update" || action === "replace" ? attributeChanges(rc, plan?.schemas ?? {}, standIns) : [];
    const verdict: ResourceVerdict = {
      address: rc.address,
      type: rc.type,
      action,
      actions: rc.change.actions,
      attributes,
      causes: [],
    };
    if (rc.previous_address && rc.previous_address !== rc.address) verdict.previousAddress = rc.previous_address;
    if (rc.action_reason) verdict.reason = rc.action_reason;
    if (action === "replace") {
      verdict.replacePaths = [...new Set((rc.change.replace_paths ?? []).map(pathText))].sort();
      if (REPLACED_BY_DESIGN.has(rc.type)) verdict.newRevision = true;
    }
    if (((action === "replace" && !verdict.newRevision) || action === "delete") && STATEFUL_TYPES[rc.type]) {
      verdict.stateful = STATEFUL_TYPES[rc.type];
    }
    const touched = new Set([
      ...attributes.filter((c) => !c.unknown).map((c) => topOf(c.path)),
      ...(verdict.replacePaths ?? []).map(topOf),
    ]);
    const onStandIns = standIns.filter((p) => touched.has(topOf(p)));
    if (onStandIns.length) verdict.standIn = [...new Set(onStandIns.map(topOf))].sort();
    const inBase = baseChanges.get(rc.address);
    if (
      inBase &&
      inBase.change.actions.join() === rc.change.actions.join() &&
      JSON.stringify(inBase.change.after) === JSON.stringify(rc.change.after)
    ) {
      verdict.pendingInBase = true;
    }
    resources.push(verdict);
  }

  // Causes: the static changes outside resources, and each resource's own block.
  const causeChanges = new Map<string, { action: Cause["action"]; attributes: AttributeChange[] }>();
  const named = (prefix: string, list: NamedChange[]) => {
    for (const c of list) {
      const attributes =
        c.attributes ?? (c.action === "create" ? [{ path: "(value)", new: c.new }] : [{ path: "(value)", old: c.old }]);
      causeChanges.set(`${prefix}${c.name}`, { action: c.action, attributes });
    }
  };
  named("var.", staticDiff.variables);
  named("local.", staticDiff.locals);
  named(
    "",
    staticDiff.providers.filter((p) => p.name.startsWith("provider.")),
  );
  for (const r of staticDiff.resources) {
    if (r.address.startsWith("data.")) {
      causeChanges.set(r.address, {
        action: r.action,
        attributes: r.attributes ?? [],
      });
    }
  }
  const changedBlocks = new Set(
    staticDiff.resources.filter((r) => !r.address.startsWith("data.")).map((r) => r.address),
  );

  const blockOf = (address: string) => (headElements.get(address) ?? baseElements.get(address))?.attributes;
  const localsOf = (name: string) =>
    (sides.head.json.locals as Record<string, Json> | undefined)?.[name] ??
    (sides.base.json.locals as Record<string, Json> | undefined)?.[name];
  /** The changed things a block reaches through locals, variables and data sources (not through resources). */
  const reached = (start: unknown): { causes: Set<string>; resources: Set<string> } => {
    const causes = new Set<string>();
    const managed = new Set<string>();
    const seen = new Set<string>();
    const queue = [...referencesIn(start, managedTypes)];
    while (queue.length) {
      const ref = queue.shift() as string;
      if (seen.has(ref)) continue;
      seen.add(ref);
      if (causeChanges.has(ref)) causes.add(ref);
      if (ref.startsWith("local.")) queue.push(...referencesIn(localsOf(ref.slice(6)), managedTypes));
      else if (ref.startsWith("data.")) queue.push(...referencesIn(blockOf(ref), managedTypes));
      else if (!ref.startsWith("var.")) managed.add(ref);
    }
    return { causes, resources: managed };
  };

  const byAddress = new Map(resources.map((r) => [r.address, r]));
  const providerCauses = [...causeChanges.keys()].filter((c) => c.startsWith("provider."));
  for (const verdict of resources) {
    const block = blockOf(verdict.address);
    if (changedBlocks.has(verdict.address) || changedBlocks.has(verdict.previousAddress ?? "")) {
      verdict.causes.push("configuration");
    }
    if (verdict.action === "create" && !baseElements.has(verdict.address)) verdict.causes = ["configuration"];
    if (verdict.action === "delete" && !headElements.has(verdict.address)) verdict.causes = ["configuration"];
    if (verdict.action === "move") verdict.causes = ["configuration"];
    if (block && verdict.action !== "create" && verdict.action !== "delete" && verdict.action !== "move") {
      // The attributes that change: what reaches them.
      const changed = new Set([
        ...verdict.attributes.map((c) => topOf(c.path)),
        ...(verdict.replacePaths ?? []).map(topOf),
      ]);
      const relevant = Object.fromEntries(Object.entries(block).filter(([k]) => changed.size === 0 || changed.has(k)));
      const { causes, resources: refs } = reached(relevant);
      verdict.causes.push(...[...causes].sort());
      const cascade = [...refs].filter((ref) => {
        const other = byAddress.get(ref);
        return other && other !== verdict && ["replace", "create", "delete"].includes(other.action);
      });
      if (cascade.length) verdict.cascadeFrom = cascade.sort();
      if (providerCauses.length)
        verdict.causes.push(...providerCauses.filter((p) => p.startsWith(`provider.${verdict.type.split("_")[0]}`)));
    }
    verdict.causes = [...new Set(verdict.causes)];
  }

  const causes: Cause[] = [...causeChanges.entries()]
    .map(([address, c]) => ({
      address,
      action: c.action,
      attributes: c.attributes,
      reaches: resources.filter((r) => r.causes.includes(address)).map((r) => r.address),
    }))
    .sort((a, b) => a.address.localeCompare(b.address));

  const cascades = resources
    .filter((r) => ["replace", "create", "delete"].includes(r.action))
    .map((r) => ({
      from: r.address,
      action: r.action,
      reaches: resources
        .filter((o) => o.cascadeFrom?.includes(r.address))
        .map((o) => ({ address: o.address, action: o.action })),
    }))
    .filter((c) => c.reaches.length);

  const deleted = resources.filter((r) => r.action === "delete");
  const created = resources.filter((r) => r.action === "create");
  const candidate = (
    address: string,
    type: string,
    from: Map<string, ReturnType<typeof elements> extends Map<string, infer E> ? E : never>,
  ) => ({
    address,
    mode: "managed" as const,
    type,
    attributes: from.get(address)?.attributes,
  });
  const addressChanges = proposeMoves(
    deleted.map((r) => candidate(r.address, r.type, baseElements)),
    created.map((r) => candidate(r.address, r.type, headElements)),
  );

  const planned = new Set(resources.map((r) => r.address));
  const withoutEffect = headPlan
    ? staticDiff.resources
        .filter((r) => r.action === "update" && !r.address.startsWith("data.") && !planned.has(r.address))
        .map((r) => ({ address: r.address, attributes: r.attributes ?? [] }))
    : [];

  const outputs: OutputVerdict[] = [];
  for (const [name, change] of Object.entries(headPlan?.output_changes ?? {})) {
    const a = change.actions.join(",");
    if (a === "no-op") continue;
    const action = a === "create" ? "create" : a === "delete" ? "delete" : "update";
    const unknown = change.after_unknown === true;
    outputs.push({
      name,
      action,
      ...(change.before !== null && change.before !== undefined ? { old: change.before } : {}),
      ...(unknown ? { unknown } : change.after !== undefined && action !== "delete" ? { new: change.after } : {}),
    });
  }
  for (const o of staticDiff.outputs) {
    if (!outputs.some((x) => x.name === o.name)) {
      outputs.push({ name: o.name, action: "definition", attributes: o.attributes ?? [], old: o.old, new: o.new });
    }
  }
  outputs.sort((a, b) => a.name.localeCompare(b.name));

  const count = (action: Action) => resources.filter((r) => r.action === action).length;
  const newRevision = resources.filter((r) => r.newRevision).length;
  const destroy = resources.filter((r) => (r.action === "replace" && !r.newRevision) || r.action === "delete").length;
  const security = Object.values(staticDiff.security).reduce((n, d) => n + d.added.length + d.removed.length, 0);
  const other = staticDiff.variables.length + staticDiff.providers.length;
  const noEffect =
    causes.filter((c) => c.reaches.length === 0 && !c.address.startsWith("provider.")).length + withoutEffect.length;
  const summary = {
    create: count("create"),
    update: count("update"),
    replace: count("replace"),
    newRevision,
    delete: count("delete"),
    move: count("move") + resources.filter((r) => r.previousAddress && r.action !== "move").length,
    forget: count("forget"),
    destroy,
    statefulDestroy: resources.filter((r) => r.stateful).length,
    addressChanges: addressChanges.length,
    backendChanged: staticDiff.backend !== undefined,
    security,
    outputs: outputs.length,
    other,
    withoutEffect: noEffect,
    changed: false,
  };
  // A change is what Terraform would do, the backend, the module's interface (variables, outputs),
  // providers and the security view; what only rewrites the configuration without effect is not.
  summary.changed = resources.length > 0 || outputs.length > 0 || summary.backendChanged || other > 0 || security > 0;

  return {
    base: sides.base.source,
    head: sides.head.source,
    verdicts: plan
      ? {
          engine: "terraform",
          against: plan.against,
          ...(statePath ? { state: statePath } : {}),
          rounds: plan.rounds,
          terraformVersion: plan.head.terraform_version,
        }
      : { engine: "identical" },
    ...(staticDiff.backend ? { backend: staticDiff.backend } : {}),
    resources: sortVerdicts(resources),
    addressChanges,
    cascades,
    causes,
    withoutEffect,
    outputs,
    variables: staticDiff.variables,
    providers: staticDiff.providers,
    locals: staticDiff.locals,
    security: staticDiff.security,
    couldNotKnow: plan ? couldNotKnow(plan, resources) : [],
    summary,
  };
}

const ORDER: Record<Action, number> = { delete: 0, replace: 1, create: 2, update: 3, move: 4, forget: 5 };
const sortVerdicts = (list: ResourceVerdict[]) =>
  list.sort((a, b) => ORDER[a.action] - ORDER[b.action] || a.address.localeCompare(b.address));

/** What the verdicts rest on that a real apply would know better. */
function couldNotKnow(plan: ChangePlan, resources: ResourceVerdict[]): string[] {
  const notes: string[] = [];
  const unknown = resources.filter((r) => r.attributes.some((c) => c.unknown));
  if (unknown.length) {
    notes.push(
      `Values known only after apply: ${unknown
        .map(
          (r) =>
            `${r.address} (${[...new Set(r.attributes.filter((c) => c.unknown).map((c) => topOf(c.path)))].join(", ")})`,
        )
        .join("; ")}.`,
    );
  }
  if (plan.against === "stand-in state") {
    notes.push(
      `The base's state is a stand-in: ids, ARNs and the values AWS fills in are made up (deterministic); the base plans No changes against it${plan.rounds > 1 ? ` (after ${plan.rounds - 1} fix-up round${plan.rounds > 2 ? "s" : ""})` : ""}.`,
    );
    const onStandIns = resources.filter((r) => r.standIn?.length);
    if (onStandIns.length) {
      notes.push(
        `Changes that touch a stand-in value (the real one may already match; plan with --state to be sure): ${onStandIns.map((r) => `${r.address} (${r.standIn?.join(", ")})`).join("; ")}.`,
      );
    }
  } else {
    notes.push("Planned against the given state with -refresh=false: drift since it was pulled is not seen.");
  }
  if (plan.standInVariables.length) {
    notes.push(
      `Variables without a value got stand-ins (give real ones with --var-file): ${plan.standInVariables.join(", ")}.`,
    );
  }
  const read = plan.awsCalls.filter((c) => c.status === 200);
  const sts = read.some((c) => c.service === "sts");
  const queues = [
    ...new Set(read.filter((c) => c.service === "sqs" && c.action === "GetQueueUrl").map((c) => c.queue)),
  ];
  const answered = [
    ...(sts ? [`the caller identity (account ${plan.accountId})`] : []),
    ...(queues.length ? [`the SQS queues ${queues.join(", ")} (stand-ins with default attributes)`] : []),
  ];
  if (answered.length) {
    notes.push(
      `Data sources were read offline, in region ${plan.region}: a loopback stand-in for AWS answered ${answered.join(" and ")}.`,
    );
  }
  return notes;
}
