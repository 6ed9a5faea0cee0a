/**
 * Terraform against moto: a stack folder (the synthesized `cdk.tf.json`, or the
 * legacy HCL module) with an `override.tf.json` beside it that points every AWS
 * service the stack and the worker use at moto, gives dummy credentials and a
 * local backend, and works around moto's known limits (moto-limits.ts) and
 * nothing else. The stack's own files are never changed.
 *
 * A new resource type needs its service in SERVICE_OF (the endpoint), a
 * leftover check in leftovers.ts, and, if it refers to something outside the
 * stack, a prerequisite in prerequisites.ts.
 */

import { existsSync, mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { runProcess } from "../../tools/lib/cli/process.js";
import type { TerraformPlanJson } from "../../tools/lib/terraform/plan.js";
import { assertTerraform, PROVIDER_MIRROR, type TerraformResult, terraformEnv } from "../../tools/lib/terraform/run.js";
import { DUMMY_CREDENTIALS } from "./aws-clients.js";
import type { StateFile } from "./fixtures.js";
import type { MotoLimit } from "./moto-limits.js";
import type { SynthJson } from "./synth.js";

const PLUGIN_CACHE = join(tmpdir(), "cricksy-tf-plugin-cache");

/** The provider's endpoint name for each resource or data source type prefix; `null`: no API call. */
export const SERVICE_OF: [prefix: string, endpoint: string | null][] = [
  ["aws_iam_policy_document", null],
  ["aws_partition", null],
  ["aws_region", null],
  ["aws_caller_identity", "sts"],
  ["aws_appautoscaling_", "appautoscaling"],
  ["aws_cloudwatch_log_", "logs"],
  ["aws_cloudwatch_metric_alarm", "cloudwatch"],
  ["aws_ecs_", "ecs"],
  ["aws_iam_", "iam"],
  ["aws_security_group", "ec2"],
  ["aws_vpc_security_group_", "ec2"],
  ["aws_sqs_", "sqs"],
  ["aws_sns_", "sns"],
  ["aws_kms_", "kms"],
  ["aws_s3_", "s3"],
  ["aws_secretsmanager_", "secretsmanager"],
  ["aws_lb_", "elbv2"],
];

/** Every endpoint of SERVICE_OF: the override points each of them at moto. */
export const ENDPOINTS = [...new Set(SERVICE_OF.map(([, e]) => e).filter((e): e is string => e !== null))].sort();

export function serviceOf(type: string): string | null | undefined {
  return SERVICE_OF.find(([prefix]) => type === prefix || (prefix.endsWith("_") && type.startsWith(prefix)))?.[1];
}

/** Resource and data source types of a configuration that no endpoint covers (a test asserts none). */
export function typesWithoutEndpoint(json: SynthJson): string[] {
  const types = [...Object.keys(json.resource ?? {}), ...Object.keys(json.data ?? {})];
  return types.filter((t) => serviceOf(t) === undefined).sort();
}

/**
 * The override file: local backend, dummy credentials, every endpoint at moto, few
 * retries (moto answers at once; a "not implemented" must fail fast, not retry for
 * minutes), and `ignore_changes` for the attributes moto drops (merged with the
 * configuration's own lifecycle).
 */
export function motoOverride(endpoint: string, config: SynthJson, limits: MotoLimit[]) {
  const override: Record<string, unknown> = {
    terraform: { backend: { local: { path: "terraform.tfstate" } } },
    provider: {
      aws: {
        access_key: DUMMY_CREDENTIALS.accessKeyId,
        secret_key: DUMMY_CREDENTIALS.secretAccessKey,
        skip_metadata_api_check: "true",
        s3_use_path_style: true,
        max_retries: 2,
        endpoints: Object.fromEntries(ENDPOINTS.map((e) => [e, endpoint])),
      },
    },
  };
  const resources: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const limit of limits) {
    const effect = limit.effect;
    if (effect.kind === "operation-missing") continue;
    for (const type of limit.resourceTypes) {
      for (const [name, body] of Object.entries(config.resource?.[type] ?? {})) {
        resources[type] ??= {};
        resources[type][name] ??= {};
        const block = resources[type][name];
        if (effect.kind === "argument-set") {
          if (body[effect.attribute] !== undefined && body[effect.attribute] !== effect.value) {
            block[effect.attribute] = effect.value;
          }
          continue;
        }
        const own = (body.lifecycle as { ignore_changes?: string[] } | undefined)?.ignore_changes ?? [];
        block.lifecycle ??= { ignore_changes: [...own] };
        const lifecycle = block.lifecycle as { ignore_changes: string[] };
        if (!lifecycle.ignore_changes.includes(effect.attribute)) lifecycle.ignore_changes.push(effect.attribute);
      }
    }
  }
  for (const byName of Object.values(resources)) {
    for (const [name, block] of Object.entries(byName)) if (Object.keys(block).length === 0) delete byName[name];
  }
  if (Object.keys(resources).length > 0) override.resource = resources;
  return override;
}

/** `type.name` of every managed resource of a configuration, sorted. */
export function managedAddresses(config: SynthJson): string[] {
  return Object.entries(config.resource ?? {})
    .flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`))
    .sort();
}

/** Managed resources that a resource's body refers to (expressions and depends_on). */
export function referencesOf(config: SynthJson, address: string): string[] {
  const [type, name] = address.split(".");
  const body = { ...config.resource?.[type]?.[name] };
  delete body["//"];
  const text = JSON.stringify(body);
  const managed = new Set(managedAddresses(config));
  const found = new Set<string>();
  for (const m of text.matchAll(/(data\.)?\b(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)/g)) {
    if (!m[1] && managed.has(`${m[2]}.${m[3]}`)) found.add(`${m[2]}.${m[3]}`);
  }
  found.delete(address);
  return [...found].sort();
}

/** The roots and every managed resource that refers to one of them, directly or not. */
export function withDependents(config: SynthJson, roots: string[]): string[] {
  const out = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const address of managedAddresses(config)) {
      if (!out.has(address) && referencesOf(config, address).some((r) => out.has(r))) {
        out.add(address);
        grew = true;
      }
    }
  }
  return [...out].sort();
}

/** Resources that fail on moto because of an operation it lacks. */
export function failingOnMoto(config: SynthJson, limits: MotoLimit[]): { address: string; limit: MotoLimit }[] {
  return limits
    .filter((l) => l.effect.kind === "operation-missing")
    .flatMap((limit) =>
      limit.resourceTypes.flatMap((type) =>
        Object.keys(config.resource?.[type] ?? {}).map((name) => ({ address: `${type}.${name}`, limit })),
      ),
    );
}

export interface Failure {
  /** Terraform's error summary line. */
  summary: string;
  /** The resource it is about (`with <address>`), when Terraform says. */
  address?: string;
  /** The AWS call that failed, from the provider's "operation error <service>: <operation>". */
  call?: { service: string; operation: string };
}

/** The errors in a Terraform (or cdktf) output: summary, address, AWS call. */
export function parseFailures(output: string): Failure[] {
  const lines = stripVTControlCharacters(output)
    .split("\n")
    // cdktf prefixes the stack name and Terraform draws a box around diagnostics
    .map((l) => l.replace(/^\S*\s*[│╷╵]\s?/, "").replace(/^compute\s+/, ""));
  const failures: Failure[] = [];
  lines.forEach((line, i) => {
    const m = /^Error: (.*)$/.exec(line.trim());
    if (!m) return;
    const rest = lines.slice(i, i + 12).join("\n");
    const call = /operation error ([^:]+): (\w+)/.exec(rest);
    const address = /^\s*with ([\w.-]+?)[,( ]/m.exec(rest);
    failures.push({
      summary: m[1],
      address: address?.[1],
      call: call ? { service: call[1], operation: call[2] } : undefined,
    });
  });
  return failures;
}

/**
 * Failures that the limits do not explain: a failure is explained when its resource
 * is one that a missing operation makes fail and the failed call is that operation.
 */
export function unexplained(failures: Failure[], config: SynthJson, limits: MotoLimit[]): Failure[] {
  const expected = failingOnMoto(config, limits);
  return failures.filter(
    (f) =>
      !expected.some(
        (e) =>
          e.address === f.address && e.limit.service === f.call?.service && e.limit.operation === f.call?.operation,
      ),
  );
}

export const describeFailure = (f: Failure) =>
  `${f.address ?? "(no address)"}: ${f.call ? `${f.call.service} ${f.call.operation}: ` : ""}${f.summary}`;

export interface StackDirOptions {
  dir: string;
  endpoint: string;
  /** The configuration as JSON (the synth), for the override's lifecycle merge and the dependency walk. */
  config: SynthJson;
  limits: MotoLimit[];
  /** Absolute path of the tfvars file. */
  varFile: string;
}

/** Terraform commands in a stack folder on moto. */
export class MotoStackDir {
  readonly dir: string;
  readonly config: SynthJson;
  readonly limits: MotoLimit[];
  readonly varFile: string;
  readonly endpoint: string;

  constructor(options: StackDirOptions) {
    this.dir = options.dir;
    this.config = options.config;
    this.limits = options.limits;
    this.varFile = options.varFile;
    this.endpoint = options.endpoint;
  }

  /** Writes override.tf.json into the folder. */
  async writeOverride(): Promise<void> {
    await writeFile(
      join(this.dir, "override.tf.json"),
      `${JSON.stringify(motoOverride(this.endpoint, this.config, this.limits), null, 2)}\n`,
    );
  }

  /**
   * The environment for terraform and cdktf: offline (mirror, dead proxy), no prompts. Where
   * there is no provider mirror (the registry then), one plugin cache for every folder, so the
   * provider is downloaded once (with the mirror, init only links it).
   */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    if (existsSync(PROVIDER_MIRROR)) return terraformEnv(extra);
    mkdirSync(PLUGIN_CACHE, { recursive: true });
    return terraformEnv({ TF_PLUGIN_CACHE_DIR: PLUGIN_CACHE, ...extra });
  }

  /** `terraform <args>` in the folder (give `-no-color` where the subcommand takes it); never throws on an exit code. */
  async run(...args: string[]): Promise<TerraformResult> {
    await assertTerraform();
    return runProcess("terraform", args, { cwd: this.dir, env: this.env() });
  }

  /** Like run, but a non-zero exit throws with Terraform's output. */
  async runOk(...args: string[]): Promise<TerraformResult> {
    const result = await this.run(...args);
    if (result.code !== 0) {
      throw new Error(
        `terraform ${args.join(" ")} failed (exit ${result.code}) in ${this.dir}:\n${result.stderr}${result.stdout}`,
      );
    }
    return result;
  }

  /** Resources that moto's missing operations keep from being applied, with what refers to them. */
  blocked(): string[] {
    return withDependents(
      this.config,
      failingOnMoto(this.config, this.limits).map((f) => f.address),
    );
  }

  /** `-target` for every resource that moto can apply; none when nothing is blocked. */
  targets(): string[] {
    const blocked = new Set(this.blocked());
    if (blocked.size === 0) return [];
    return managedAddresses(this.config)
      .filter((a) => !blocked.has(a))
      .map((a) => `-target=${a}`);
  }

  /**
   * `terraform plan -detailed-exitcode -json -out=tfplan`, limited to what moto can apply.
   * `changes`: Terraform's planned actions by address (`create`, `update`, `replace`,
   * `delete`), read from its machine-readable output (no `show`, which would start the
   * provider once more). Exit code 0: no changes, 2: changes; anything else throws.
   */
  async plan(options: { vars?: Record<string, string>; all?: boolean } = {}) {
    const args = ["plan", "-json", "-input=false", "-detailed-exitcode", "-out=tfplan", `-var-file=${this.varFile}`];
    for (const [k, v] of Object.entries(options.vars ?? {})) args.push(`-var=${k}=${v}`);
    if (!options.all) args.push(...this.targets());
    const result = await this.run(...args);
    const messages = result.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as UiMessage);
    if (result.code !== 0 && result.code !== 2) {
      const errors = messages.filter((m) => m.type === "diagnostic").map((m) => JSON.stringify(m.diagnostic));
      throw new Error(
        `terraform plan failed (exit ${result.code}) in ${this.dir}:\n${errors.join("\n")}${result.stderr}`,
      );
    }
    const changes: Record<string, string[]> = {};
    for (const m of messages) {
      if (m.type !== "planned_change" || !m.change || m.change.resource.addr.startsWith("data.")) continue;
      changes[m.change.action] = [...(changes[m.change.action] ?? []), m.change.resource.addr];
    }
    for (const list of Object.values(changes)) list.sort();
    const summary = messages.find((m) => m.type === "change_summary")?.changes;
    return { code: result.code, changes, summary };
  }

  /** `terraform show -json tfplan`: the last plan in full. */
  async showPlan(): Promise<TerraformPlanJson> {
    return JSON.parse((await this.runOk("show", "-json", "tfplan")).stdout) as TerraformPlanJson;
  }

  /** `terraform apply tfplan` (the last plan); returns its failures instead of throwing. */
  async applyPlan() {
    const result = await this.run("apply", "-no-color", "-input=false", "-auto-approve", "tfplan");
    return { ...result, failures: result.code === 0 ? [] : parseFailures(`${result.stdout}\n${result.stderr}`) };
  }

  async state(): Promise<StateFile> {
    const pulled = await this.runOk("state", "pull");
    return JSON.parse(pulled.stdout) as StateFile;
  }
}

/** One line of Terraform's machine-readable output (`-json`). */
interface UiMessage {
  type: string;
  change?: { resource: { addr: string }; action: string };
  changes?: { add: number; change: number; remove: number };
  diagnostic?: unknown;
}

/** Managed resources of a state that are not tainted, as addresses, sorted. */
export function appliedAddresses(state: StateFile): string[] {
  return state.resources
    .filter((r) => r.mode === "managed")
    .filter((r) => r.instances.some((i) => (i as { status?: string }).status !== "tainted"))
    .map((r) => `${r.type}.${r.name}`)
    .sort();
}

/** `{ "<actions>": [addresses] }` of a plan's managed resources, no-ops left out. */
export function actionsOf(plan: TerraformPlanJson): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode !== "managed") continue;
    const action = rc.change.actions.join(",");
    if (action === "no-op") continue;
    out[action] = [...(out[action] ?? []), rc.address].sort();
  }
  return out;
}
