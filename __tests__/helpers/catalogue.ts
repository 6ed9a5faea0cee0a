/**
 * A catalogue of edits of a synthesized stack, generated from the synth itself
 * (whatever resources, data sources, variables and locals it holds), and the
 * truth to hold them against: `terraform plan` against the production state
 * fixture with the stack deployed on it.
 *
 * Edits, by kind:
 * - probes: every value the configuration writes for a resource or a data
 *   source (a literal, or a template with literal text; a container definition
 *   inside its jsonencode) changed: strings get a suffix, numbers +1, booleans
 *   flip; where Terraform rejects the value ("expected … to be one of […]",
 *   "… in the range (a - b)") another allowed value is taken, else the probe is
 *   dropped (`validProbes`);
 * - variable defaults and locals: each one changed the same way;
 * - renames with and without a `moved` block, removals of the resources nothing
 *   refers to, additions (a copy of one resource of every type);
 * - security: ingress from anywhere, a managed policy attached to another role,
 *   an inline policy removed, an IAM action widened;
 * - cosmetic: every block's keys in another order, policy actions reordered.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeJsonencode } from "../../tools/lib/stack/hcl.js";
import type { Json, StackJson } from "../../tools/lib/stack/read.js";
import { interpolations, referencesIn } from "../../tools/lib/stack/references.js";
import { applyPlan, type StandInState, stateDependencies } from "../../tools/lib/terraform/base-state.js";
import type { PlanResult, ResourceChange, TerraformPlanJson } from "../../tools/lib/terraform/plan.js";
import { providerSchemas } from "../../tools/lib/terraform/schema.js";
import { offlineWorkdir } from "../../tools/lib/terraform/workdir.js";

export type EditKind =
  | "probe"
  | "variable default"
  | "local"
  | "rename"
  | "rename with moved"
  | "removal"
  | "addition"
  | "security"
  | "cosmetic";

export interface Edit {
  kind: EditKind;
  /** The address (or `var.x`, `local.x`) it changes. */
  target: string;
  /** The path inside it, for probes: `["network_configuration", "assign_public_ip"]`. */
  path?: (string | number)[];
  /** The new value, for probes and defaults. */
  value?: Json;
  /** The value before. */
  was?: Json;
  describe: string;
  apply(json: StackJson): void;
}

type Block = Record<string, Json>;
const isObject = (v: unknown): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Keys that are no values of the resource (metadata, meta-arguments). */
const NOT_VALUES = new Set(["//", "lifecycle", "depends_on", "provider", "count", "for_each", "provisioner"]);

/** A string that is one interpolation only (a reference or an expression): its value comes from elsewhere. */
const onlyExpression = (s: string) => {
  const spans = interpolations(s);
  return spans.length === 1 && spans[0].start === 0 && spans[0].end === s.length;
};

function leaves(value: Json, path: (string | number)[] = []): [(string | number)[], Json][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]));
  if (isObject(value)) {
    return Object.entries(value)
      .filter(([k]) => path.length > 0 || !NOT_VALUES.has(k))
      .flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return [[path, value]];
}

function setAt(target: Json, path: (string | number)[], value: Json): void {
  let current = target as Record<string | number, Json>;
  for (const step of path.slice(0, -1)) current = current[step] as Record<string | number, Json>;
  current[path[path.length - 1]] = value;
}

/** The changed value of a probe: undefined when the value is not the configuration's to change here. */
async function probed(value: Json): Promise<Json | undefined> {
  if (typeof value === "boolean") return !value;
  // Doubled (0 becomes 1): periods stay multiples of a minute, counts stay in step.
  if (typeof value === "number") return value === 0 ? 1 : value * 2;
  if (typeof value !== "string") return undefined;
  if (value.trim().startsWith("${jsonencode(")) {
    const decoded = (await decodeJsonencode(value)) as Json | undefined;
    if (decoded === undefined) return undefined;
    const literal = leaves(decoded).find(([, v]) => typeof v === "string" && !v.includes("${"));
    if (!literal) return undefined;
    setAt(decoded, literal[0], `${literal[1]}-x`);
    return `\${jsonencode(${JSON.stringify(decoded)})}`;
  }
  if (onlyExpression(value)) return undefined;
  return `${value}-x`;
}

/**
 * A block whose every value is an expression (a `for_each` resource made of `each.value`s and
 * references) has no literal to change: its expressions get the suffix instead, so that its
 * type is probed too (Terraform drops or corrects what it rejects, as for the others).
 */
const expressionProbe = (value: Json): Json | undefined =>
  typeof value === "string" && onlyExpression(value) && !value.trim().startsWith("${jsonencode(")
    ? `${value}-x`
    : undefined;

/** Whether a probe's path is the attribute an error names (`metric_query.1.metric.0.period`, or `stat` alone). */
function namedBy(path: (string | number)[] | undefined, key: string | undefined, message: string): boolean {
  if (!path) return false;
  if (key !== undefined && !path.includes(key)) return false;
  const named = /^expected ([\w.]+) to be/.exec(message)?.[1] ?? /for ([\w.]+)/.exec(message)?.[1];
  if (!named) return true;
  const parts = named.split(".");
  const keys = path.filter((p): p is string => typeof p === "string");
  const namedKeys = parts.filter((p) => !/^\d+$/.test(p));
  if (namedKeys.length > 1 && namedKeys.join(".") !== keys.slice(-namedKeys.length).join(".")) return false;
  if (namedKeys.at(-1) !== keys.at(-1)) return false;
  // The first list index, where both name one.
  const index = parts.find((p) => /^\d+$/.test(p));
  const first = path.find((p) => typeof p === "number");
  return index === undefined || first === undefined || Number(index) === first || parts.length < 3;
}

const blocksOf = (json: StackJson, section: "resource" | "data") =>
  Object.entries(json[section] ?? {}).flatMap(([type, byName]) =>
    Object.entries(byName ?? {}).map(([name, block]) => ({
      type,
      name,
      address: section === "data" ? `data.${type}.${name}` : `${type}.${name}`,
      block: block as Block,
    })),
  );

const blockAt = (json: StackJson, address: string): Block => {
  const parts = address.split(".");
  const [section, type, name] = parts[0] === "data" ? ["data", parts[1], parts[2]] : ["resource", parts[0], parts[1]];
  return (json[section as "resource" | "data"] as Record<string, Record<string, Block>>)[type][name];
};

/** Every value a resource or data block writes, changed (see the module's comment). */
export async function probes(json: StackJson): Promise<Edit[]> {
  const edits: Edit[] = [];
  for (const section of ["resource", "data"] as const) {
    for (const { address, block } of blocksOf(json, section)) {
      const before = edits.length;
      for (const [path, was] of leaves(block)) {
        const value = await probed(was);
        if (value === undefined) continue;
        edits.push(probeEdit("probe", address, path, was, value));
      }
      if (edits.length > before) continue;
      for (const [path, was] of leaves(block)) {
        const value = expressionProbe(was);
        if (value !== undefined) edits.push(probeEdit("probe", address, path, was, value));
      }
    }
  }
  return edits;
}

function probeEdit(kind: EditKind, target: string, path: (string | number)[], was: Json, value: Json): Edit {
  return {
    kind,
    target,
    path,
    was,
    value,
    describe: `${target} ${path.join(".")}: ${JSON.stringify(was).slice(0, 60)} → ${JSON.stringify(value).slice(0, 60)}`,
    apply(json) {
      setAt(blockAt(json, target), path, this.value as Json);
    },
  };
}

/** Each variable's default and each local's literal text, changed. */
export async function variableAndLocalEdits(json: StackJson): Promise<Edit[]> {
  const edits: Edit[] = [];
  for (const [name, variable] of Object.entries(json.variable ?? {})) {
    if (!variable || !("default" in variable)) continue;
    const was = variable.default as Json;
    const value =
      typeof was === "string" && was === ""
        ? null
        : Array.isArray(was)
          ? [...was, ...(was.length && typeof was[0] === "string" ? [`${was[0]}x`] : [])]
          : await probed(was);
    if (value === undefined || value === null || JSON.stringify(value) === JSON.stringify(was)) continue;
    edits.push({
      kind: "variable default",
      target: `var.${name}`,
      was,
      value,
      describe: `var.${name} default: ${JSON.stringify(was)} → ${JSON.stringify(value)}`,
      apply(j) {
        (j.variable as Record<string, { default?: Json }>)[name].default = this.value as Json;
      },
    });
  }
  for (const [name, local] of Object.entries((json.locals ?? {}) as Record<string, Json>)) {
    for (const [path, was] of leaves(local)) {
      const value = await probed(was);
      if (value === undefined) continue;
      edits.push({
        kind: "local",
        target: `local.${name}`,
        path,
        was,
        value,
        describe: `local.${name}${path.length ? `.${path.join(".")}` : ""}: ${JSON.stringify(was)} → ${JSON.stringify(value)}`,
        apply(j) {
          const locals = j.locals as Record<string, Json>;
          if (path.length === 0) locals[name] = this.value as Json;
          else setAt(locals[name], path, this.value as Json);
        },
      });
    }
  }
  return edits;
}

/** The managed addresses that no other block, local or other resource refers to (outputs may). */
export function leafResources(json: StackJson): string[] {
  const types = new Set(Object.keys(json.resource ?? {}));
  const referenced = new Set<string>();
  for (const section of ["resource", "data"] as const) {
    for (const { address, block } of blocksOf(json, section)) {
      for (const ref of referencesIn(block, types)) if (ref !== address) referenced.add(ref);
    }
  }
  for (const ref of referencesIn(json.locals ?? {}, types)) referenced.add(ref);
  return blocksOf(json, "resource")
    .map((r) => r.address)
    .filter((a) => !referenced.has(a))
    .sort();
}

/** Outputs that refer to an address. */
const outputsReferring = (json: StackJson, address: string) =>
  Object.entries(json.output ?? {})
    .filter(([, o]) => referencesIn(o, new Set([address.split(".")[0]])).has(address))
    .map(([name]) => name);

/** An ingress rule of a security group (every attribute, as cdktf writes one): tcp 22 from anywhere. */
export const sshFromAnywhere = (description: string): Json => ({
  description,
  from_port: 22,
  to_port: 22,
  protocol: "tcp",
  cidr_blocks: ["0.0.0.0/0"],
  ipv6_cidr_blocks: null,
  prefix_list_ids: null,
  security_groups: null,
  self: null,
});

/** A rename of `address` everywhere in the stack (what changing a pin() name does), with or without a moved block. */
export function renameEdit(address: string, moved: boolean): Edit {
  const [type, name] = address.split(".");
  const to = `${type}.${name}_renamed`;
  return {
    kind: moved ? "rename with moved" : "rename",
    target: address,
    describe: `${address} → ${to}${moved ? " (moved block)" : ""}`,
    apply(json) {
      // Every reference: `type.name.attr`, `type.name[0]` (count, for_each), `"type.name"` (depends_on), `${type.name}`.
      const reference = new RegExp(`${address.replaceAll(".", "\\.")}(?=[.\\["}])`, "g");
      const renamed = JSON.parse(JSON.stringify(json).replace(reference, to));
      Object.assign(json, renamed);
      const blocks = (json.resource as Record<string, Record<string, Json>>)[type];
      blocks[`${name}_renamed`] = blocks[name];
      delete blocks[name];
      if (moved) json.moved = [...((json.moved as Json[] | undefined) ?? []), { from: address, to }];
    },
  };
}

export function removalEdit(address: string): Edit {
  const [type, name] = address.split(".");
  return {
    kind: "removal",
    target: address,
    describe: `${address} removed`,
    apply(json) {
      for (const output of outputsReferring(json, address)) delete json.output?.[output];
      const blocks = (json.resource as Record<string, Record<string, Json>>)[type];
      delete blocks[name];
      if (Object.keys(blocks).length === 0) delete (json.resource as Record<string, Json>)[type];
    },
  };
}

/** A copy of the first resource of each type, under a new name. */
export function additionEdits(json: StackJson): Edit[] {
  return Object.entries(json.resource ?? {}).map(([type, byName]) => {
    const name = Object.keys(byName ?? {}).sort()[0];
    return {
      kind: "addition" as const,
      target: `${type}.${name}_copy`,
      describe: `${type}.${name}_copy added (a copy of ${type}.${name})`,
      apply(j: StackJson) {
        const blocks = (j.resource as Record<string, Record<string, Json>>)[type];
        blocks[`${name}_copy`] = structuredClone(blocks[name]);
      },
    };
  });
}

/** Every block's keys in reverse order, and every list of IAM actions reversed: the same infrastructure. */
export function cosmeticEdit(): Edit {
  const reversed = (v: Json, key?: string): Json => {
    if (Array.isArray(v)) {
      const items = v.map((x) => reversed(x));
      return key === "actions" && items.every((x) => typeof x === "string") ? items.reverse() : items;
    }
    if (isObject(v))
      return Object.fromEntries(
        Object.entries(v)
          .reverse()
          .map(([k, x]) => [k, reversed(x, k)]),
      );
    return v;
  };
  return {
    kind: "cosmetic",
    target: "(every block)",
    describe: "keys of every block reversed, IAM action lists reversed",
    apply(json) {
      for (const section of ["resource", "data", "output", "locals", "variable"] as const) {
        if (json[section]) (json as Record<string, Json>)[section] = reversed(json[section] as Json);
      }
    },
  };
}

/**
 * Security edits from the stack: ingress from anywhere on every security group, each role's managed
 * policy attachments moved to another role, every inline role policy removed, every policy document's
 * first statement widened to `<service>:*`.
 */
export function securityEdits(json: StackJson): Edit[] {
  const edits: Edit[] = [];
  for (const { address } of blocksOf(json, "resource").filter((r) => r.type === "aws_security_group")) {
    edits.push({
      kind: "security",
      target: address,
      describe: `${address}: ingress tcp 22 from 0.0.0.0/0`,
      apply(j) {
        const block = blockAt(j, address);
        const ingress = Array.isArray(block.ingress) ? block.ingress : [];
        block.ingress = [...ingress, sshFromAnywhere("SSH from anywhere")];
      },
    });
  }
  const roles = blocksOf(json, "resource")
    .filter((r) => r.type === "aws_iam_role")
    .map((r) => r.address);
  for (const { address, block } of blocksOf(json, "resource").filter(
    (r) =>
      r.type === "aws_iam_role_policy_attachment" &&
      typeof r.block.policy_arn === "string" &&
      r.block.policy_arn.includes("${"),
  )) {
    const current = referencesIn(block.role, new Set(["aws_iam_role"]));
    const other = roles.find((r) => !current.has(r));
    if (!other) continue;
    edits.push({
      kind: "security",
      target: address,
      describe: `${address}: attached to ${other} instead`,
      apply(j) {
        blockAt(j, address).role = `\${${other}.name}`;
      },
    });
  }
  for (const { address } of blocksOf(json, "resource").filter((r) => r.type === "aws_iam_role_policy")) {
    edits.push({ ...removalEdit(address), kind: "security" });
  }
  for (const { address, block } of blocksOf(json, "data").filter((d) => d.type === "aws_iam_policy_document")) {
    const statements = Array.isArray(block.statement) ? block.statement : [];
    const first = statements.find((s) => isObject(s) && Array.isArray(s.actions) && typeof s.actions[0] === "string");
    if (!first || !isObject(first) || !Array.isArray(first.actions)) continue;
    const index = statements.indexOf(first);
    const service = String(first.actions[0]).split(":")[0];
    edits.push({
      kind: "security",
      target: address,
      describe: `${address}: statement ${index} also allows ${service}:*`,
      apply(j) {
        const statement = (blockAt(j, address).statement as Block[])[index];
        statement.actions = [...(statement.actions as Json[]), `${service}:*`];
      },
    });
  }
  return edits;
}

/** The edits applied to a copy of `json`. */
export function applyEdits(json: StackJson, edits: Edit[]): StackJson {
  const copy = structuredClone(json);
  for (const edit of edits) edit.apply(copy);
  return copy;
}

/** Terraform's errors in a failed plan's output: message, the address it names, the key on its source line. */
export function planErrors(output: string): { message: string; address?: string; key?: string; variable?: string }[] {
  return output
    .split(/\n(?=Error: )/)
    .filter((block) => block.startsWith("Error: "))
    .map((block) => {
      const message = block.split("\n")[0].slice("Error: ".length);
      const key = /^\s*\d+:\s*"([\w-]+)":/m.exec(block)?.[1];
      return {
        message,
        address:
          /^\s*with ([\w.[\]"-]+),$/m.exec(block)?.[1] ??
          /line \d+, in (?:resource\.)?((?:data\.)?[a-z][\w]*\.[\w-]+)/.exec(block)?.[1],
        key,
        // A variable's own rule names it on the source line (its block's key).
        variable: message === "Invalid value for variable" ? key : undefined,
      };
    });
}

/** Another value Terraform's error allows: one of its choices, or an end of its range. */
function allowedAlternative(message: string, was: Json, tried: Json): Json | undefined {
  const choices = /to be one of \[(.*?)\]/.exec(message)?.[1];
  if (choices) {
    const values = [...choices.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    return values.find((v) => v !== was && v !== tried && v !== "");
  }
  const range = /in the range \((-?\d+) - (-?\d+)\)/.exec(message);
  if (range) {
    const [low, high] = [Number(range[1]), Number(range[2])];
    return [low, high, Math.floor((low + high) / 2)].find((v) => v !== was && v !== tried);
  }
  return undefined;
}

/**
 * The probes that Terraform accepts: each rejected one takes an allowed value from the error, or
 * goes. `plan` plans a head made of the edits. At most `rounds` tries; returns the edits kept and the
 * last (successful) plan.
 */
export async function validProbes(
  edits: Edit[],
  plan: (edits: Edit[]) => Promise<PlanResult>,
  rounds = 10,
  onErrors: (errors: ReturnType<typeof planErrors>) => void = () => {},
): Promise<{ edits: Edit[]; result: PlanResult; dropped: Edit[] }> {
  let kept = [...edits];
  const dropped: Edit[] = [];
  for (let round = 0; round < rounds; round++) {
    const result = await plan(kept);
    if (result.code === 0) return { edits: kept, result, dropped };
    const errors = planErrors(`${result.stderr}\n${result.stdout}`);
    onErrors(errors);
    let fixed = 0;
    const byEdit = new Map<Edit, string[]>();
    for (const error of errors) {
      const culprits = kept.filter((e) =>
        error.variable
          ? e.target === `var.${error.variable}`
          : e.target === error.address && namedBy(e.path, error.key, error.message),
      );
      for (const edit of culprits) byEdit.set(edit, [...(byEdit.get(edit) ?? []), error.message]);
    }
    for (const [edit, messages] of byEdit) {
      // One complaint with the allowed values: take another one; anything else: drop the probe.
      const alternative =
        messages.length === 1 ? allowedAlternative(messages[0], edit.was as Json, edit.value as Json) : undefined;
      if (alternative !== undefined) {
        edit.value = alternative;
        edit.describe = `${edit.describe.split(" → ")[0]} → ${JSON.stringify(alternative)}`;
      } else {
        kept = kept.filter((e) => e !== edit);
        dropped.push(edit);
      }
      fixed++;
    }
    if (fixed === 0) {
      throw new Error(`the catalogue's plan failed and no edit explains it:\n${result.stderr}`);
    }
  }
  throw new Error(`the catalogue's edits still fail after ${rounds} rounds`);
}

/**
 * The production state fixture with a stack deployed on it: what the plan against the state would
 * do, applied (stand-ins only for what the deploy creates or recomputes), until the stack plans
 * "No changes" against it.
 */
export async function deployedState(configFile: string, stateFile: string, varFile: string): Promise<StandInState> {
  const workdir = await offlineWorkdir({ configFile, stateFile, answerAnyQueue: true });
  try {
    const initial = await workdir.plan({ varFile });
    if (initial.code !== 0 || !initial.json) throw new Error(`plan failed:\n${initial.stderr}`);
    const schemas = await providerSchemas(workdir.dir);
    const state = JSON.parse(await readFile(stateFile, "utf8"));
    let current: StandInState = { state, standIns: {} };
    let json: TerraformPlanJson = initial.json;
    for (let round = 0; round < 4; round++) {
      current = applyPlan(
        current,
        json,
        schemas,
        { region: "us-east-2", accountId: workdir.aws.accountId },
        stateDependencies(JSON.parse(await readFile(configFile, "utf8"))),
      );
      await writeFile(join(workdir.dir, "terraform.tfstate"), JSON.stringify(current.state));
      const next = await workdir.plan({ varFile, detailedExitcode: true });
      if (next.code !== 0 || !next.json) throw new Error(`plan failed:\n${next.stderr}`);
      if (!next.changed) return current;
      json = next.json;
    }
    throw new Error("the deployed state does not converge");
  } finally {
    await workdir.dispose();
  }
}

/** Terraform's verdict per managed address, in a comparable form: actions, forcing paths, former address. */
export function verdictTable(plan: TerraformPlanJson): Record<string, string> {
  const path = (p: (string | number)[]) => p.map((x) => (typeof x === "number" ? `[${x}]` : `.${x}`)).join("");
  return Object.fromEntries(
    (plan.resource_changes ?? [])
      .filter((rc: ResourceChange) => rc.mode === "managed")
      .map((rc: ResourceChange) => [
        rc.address,
        [
          rc.change.actions.join(","),
          ...(rc.change.replace_paths?.length
            ? [`forced by ${[...new Set(rc.change.replace_paths.map(path))].sort().join(" ")}`]
            : []),
          ...(rc.previous_address && rc.previous_address !== rc.address ? [`from ${rc.previous_address}`] : []),
        ].join("; "),
      ]),
  );
}
