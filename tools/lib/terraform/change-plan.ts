/**
 * Terraform's verdict on a change of a configuration, offline: `terraform plan`
 * of the head against a state in which the base is applied.
 *
 * Without a real state, the state stands for the base (base-state.ts): the base
 * is planned against an empty state with its references inlined, the planned
 * values become a state with stand-ins for what only AWS knows, and the base
 * must plan "No changes" against it (checked, beside the head's plan against
 * the same state; a few fix-up rounds when it does not, then an error: no
 * verdict is ever made up). With a real state (`terraform state pull`), the head
 * and the base are both planned against it.
 *
 * Every plan runs in an offline workdir (workdir.ts: local backend, loopback
 * STS and SQS that answer any queue, dummy credentials, `-refresh=false`); one
 * `terraform init` is shared by all of them when their provider requirements
 * agree. Variables without a value get stand-ins (inputs.ts) unless var files
 * give them. Everything is made under one temporary folder, removed at the end.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ToolError, UsageError } from "../cli/errors.js";
import { runProcess } from "../cli/process.js";
import { tempDir } from "../cli/temp.js";
import { PROJECT_ROOT } from "../project.js";
import type { StackJson } from "../stack/read.js";
import { readStateFile, stateAccountId } from "../state/read.js";
import type { AwsCall } from "./aws-responder.js";
import { applyPlan, emptyState, inlineReferences, type StandInState, stateDependencies } from "./base-state.js";
import { type Inputs, planInputs, standInInputs, withoutValidation } from "./inputs.js";
import { type PlanResult, showPlan, type TerraformPlanJson } from "./plan.js";
import { terraformEnv, terraformOk } from "./run.js";
import { type ProviderSchemas, providerSchemas } from "./schema.js";
import type { StandInContext } from "./stand-ins.js";
import { LEGACY_ACCOUNT_ID, type OfflineWorkdir, offlineWorkdir } from "./workdir.js";

/** Plans of the base against its stand-in state before giving up (the first is the check itself). */
export const MAX_ROUNDS = 3;

/**
 * Stand-in states that planned "No changes", by what made them (the base's configuration, its inputs,
 * the account and region, Terraform's version and the provider build): the same base needs no new one.
 */
export const STAND_IN_CACHE_DIR = join(PROJECT_ROOT, "node_modules", ".cache", "cricksy-infra", "stand-in-states");
/**
 * What makes a stand-in state besides its inputs: the code that makes it. An entry made by other code
 * (an edit of the harness, another version of the project) is not used.
 */
const CACHE_FORMAT = createHash("sha256")
  .update(
    ["base-state.ts", "stand-ins.ts", "change-plan.ts"]
      .map((file) => readFileSync(join(import.meta.dirname, file), "utf8"))
      .join("\0"),
  )
  .digest("hex");

interface CacheEntry {
  standIn: StandInState;
  rounds: number;
}

function readCache(file: string): CacheEntry | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const entry = JSON.parse(readFileSync(file, "utf8")) as CacheEntry;
    return entry.standIn?.state?.version === 4 ? entry : undefined;
  } catch {
    return undefined;
  }
}

function writeCache(file: string, entry: CacheEntry): void {
  try {
    mkdirSync(STAND_IN_CACHE_DIR, { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, JSON.stringify(entry));
    renameSync(partial, file);
  } catch {
    // A cache that cannot be written costs time, not correctness.
  }
}

let versionRun: Promise<string> | undefined;
/** `terraform version` (a cache key). */
function terraformVersion(): Promise<string> {
  versionRun ??= runProcess("terraform", ["version", "-json"], { env: terraformEnv() }).then(
    (r) => (JSON.parse(r.stdout) as { terraform_version?: string }).terraform_version ?? r.stdout,
    () => "unknown",
  );
  return versionRun;
}

export interface ChangePlanOptions {
  base: { json: StackJson; label: string };
  head: { json: StackJson; label: string };
  /** Var files for every plan (absolute paths), in order. */
  varFiles?: string[];
  /** A real state (`terraform state pull`) to plan against instead of a stand-in one. */
  stateFile?: string;
  /** The account STS reports. Default: the state's, else LEGACY_ACCOUNT_ID. */
  accountId?: string;
  /** Told what is being done, step by step. */
  progress?: (message: string) => void;
  /** Use (and fill) the cache of stand-in states. Default: true. */
  cache?: boolean;
}

export interface ChangePlan {
  /** The head planned against the state. */
  head: TerraformPlanJson;
  /** With a real state: the base planned against it (what is pending without the change). */
  base?: TerraformPlanJson;
  against: "stand-in state" | "state";
  /** Stand-in state only: per address, the attribute paths that hold stand-ins. */
  standIns: Record<string, string[]>;
  /** Stand-in state only: plans of the base against it until it said "No changes". */
  rounds: number;
  /** Variables that had no value and were given stand-ins (for the base, the head or both). */
  standInVariables: string[];
  region: string;
  accountId: string;
  /** What the head's plan asked of the loopback AWS. */
  awsCalls: AwsCall[];
  /** The resource types' schemas (computed attributes, for the report). */
  schemas: ProviderSchemas;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The region of the stack's AWS provider: a literal, or a variable's value. Default: us-east-1. */
function providerRegion(json: StackJson, inputs: Inputs): string {
  const providers = (json.provider as Record<string, unknown> | undefined)?.aws;
  const first = Array.isArray(providers) ? providers[0] : providers;
  const region = isObject(first) ? first.region : undefined;
  if (typeof region !== "string") return "us-east-1";
  const variable = /^\$\{var\.([\w-]+)\}$/.exec(region)?.[1];
  const value = variable ? inputs[variable] : region;
  return typeof value === "string" && value && !value.includes("${") ? value : "us-east-1";
}

/** What `terraform init` depends on: equal keys share one initialized `.terraform`. */
const initKey = (json: StackJson) =>
  JSON.stringify([json.terraform?.required_providers ?? null, json.terraform?.required_version ?? null]);

/** The configuration as planned here (stand-ins' validation dropped) and its stand-in inputs. */
function prepare(json: StackJson, given: Inputs, where: { region: string; accountId: string }, what: string) {
  const standIns = standInInputs(json.variable, given, where);
  if (standIns.missing.length) {
    throw new UsageError(
      `the ${what} has variables without a value that no stand-in fits (${standIns.missing.join(", ")}): give them with --var-file`,
    );
  }
  const names = Object.keys(standIns.values);
  const config = names.length ? { ...json, variable: withoutValidation(json.variable ?? {}, names) } : json;
  return { config, tfvars: standIns.values, names };
}

/** The end of Terraform's output for an error line: its `Error:` lines, or the last lines. */
export function terraformError(result: PlanResult): string {
  const text = `${result.stderr}\n${result.stdout}`;
  const errors = text
    .split("\n")
    .map((l) => l.replace(/^[│╷╵\s]+/, "").trim())
    .filter((l) => l.startsWith("Error:"));
  if (errors.length) return [...new Set(errors)].slice(0, 3).join(" | ");
  return text.trim().split("\n").slice(-3).join(" | ");
}

const planFailed = (what: string, result: PlanResult) =>
  new ToolError(`terraform plan of ${what} failed: ${terraformError(result)}`);

interface Context {
  root: string;
  given: Inputs;
  accountId: string;
  region: string;
  varFiles: string[];
  workdirs: OfflineWorkdir[];
  say: (message: string) => void;
}

async function context(
  options: {
    base: { json: StackJson };
    varFiles?: string[];
    accountId?: string;
    progress?: (message: string) => void;
  },
  temp: string,
): Promise<Context> {
  const varFiles = options.varFiles ?? [];
  const given = await planInputs(temp, { varFiles });
  const accountId = options.accountId ?? LEGACY_ACCOUNT_ID;
  const defaults = Object.fromEntries(
    Object.entries(options.base.json.variable ?? {})
      .filter(([, v]) => v && "default" in v)
      .map(([k, v]) => [k, v.default]),
  );
  const region = providerRegion(options.base.json, { ...defaults, ...given });
  return { root: temp, given, accountId, region, varFiles, workdirs: [], say: options.progress ?? (() => {}) };
}

/** A new offline workdir under the context's folder, its stand-in inputs written as an auto-loaded tfvars file. */
async function workdirIn(c: Context, name: string, config: object, tfvars: Record<string, unknown>, initFrom?: string) {
  const made = await offlineWorkdir({
    dir: join(c.root, name),
    config,
    accountId: c.accountId,
    answerAnyQueue: true,
    initFrom,
  });
  c.workdirs.push(made);
  if (Object.keys(tfvars).length) {
    await writeFile(join(made.dir, "stand-ins.auto.tfvars.json"), JSON.stringify(tfvars, null, 2));
  }
  return made;
}

const init = (made: OfflineWorkdir) => terraformOk(made.dir, "init", ["-input=false"]);

/**
 * A base, applied to a stand-in state (see the module's comment), ready to plan heads against.
 * `planHead` may be called many times (each head in its own workdir, sharing the base's init).
 */
export interface StandInBase {
  region: string;
  accountId: string;
  schemas: ProviderSchemas;
  /** The stand-in state as it stands (after the fix-up rounds, once a head was planned). */
  current(): StandInState;
  planHead(head: { json: StackJson; label: string }): Promise<ChangePlan>;
  dispose(): Promise<void>;
}

export async function standInBase(options: Omit<ChangePlanOptions, "head" | "stateFile">): Promise<StandInBase> {
  const temp = tempDir("cricksy-diff-");
  let c: Context | undefined;
  try {
    c = await context(options, temp.dir);
    const ctx = c;
    const where = { region: ctx.region, accountId: ctx.accountId };
    const base = prepare(options.base.json, ctx.given, where, `base (${options.base.label})`);

    // 1. The base, its references inlined, against an empty state: every value but the computed ones.
    ctx.say("initializing Terraform (provider from the mirror or the plugin cache)");
    const first = await workdirIn(ctx, "base-empty", base.config, base.tfvars);
    await init(first);
    const schemas: ProviderSchemas = await providerSchemas(first.dir);
    const standInCtx: StandInContext = { region: ctx.region, accountId: ctx.accountId };
    const dependencies = stateDependencies(options.base.json);
    const cacheFile =
      options.cache === false
        ? undefined
        : join(
            STAND_IN_CACHE_DIR,
            `${createHash("sha256")
              .update(
                JSON.stringify([
                  CACHE_FORMAT,
                  base.config,
                  base.tfvars,
                  ctx.given,
                  standInCtx,
                  await terraformVersion(),
                  readFileSync(join(first.dir, ".terraform.lock.hcl"), "utf8"),
                ]),
              )
              .digest("hex")
              .slice(0, 32)}.json`,
          );
    const cached = cacheFile ? readCache(cacheFile) : undefined;
    let standIn: StandInState;
    let version = 0;
    let rounds = 0;
    if (cached) {
      ctx.say("the base's stand-in state comes from the cache (it planned No changes when it was made)");
      standIn = cached.standIn;
      rounds = cached.rounds;
    } else {
      const inlined = inlineReferences(base.config as StackJson, schemas, standInCtx);
      await writeFile(join(first.dir, "cdk.tf.json"), JSON.stringify(inlined.json, null, 2));
      ctx.say("planning the base against an empty state");
      let empty = await first.plan({ varFiles: ctx.varFiles });
      if (empty.code !== 0 || !empty.json) {
        // Not the inlining's fault if the base itself does not plan: say what Terraform says about the base.
        await writeFile(join(first.dir, "cdk.tf.json"), JSON.stringify(base.config, null, 2));
        empty = await first.plan({ varFiles: ctx.varFiles });
        if (empty.code !== 0 || !empty.json) throw planFailed(`the base (${options.base.label})`, empty);
      }
      const seed = createHash("sha256").update(JSON.stringify(options.base.json)).digest("hex");
      standIn = applyPlan(emptyState(seed), empty.json, schemas, standInCtx, dependencies);
    }

    // 2. The base against that state must say "No changes"; else its plan's values go in (a few rounds).
    const checkDir = await workdirIn(ctx, "base", base.config, base.tfvars, first.dir);
    let converged: Promise<number> | undefined = cached ? Promise.resolve(0) : undefined;
    const converge = () => {
      converged ??= (async () => {
        let pending: string[] = [];
        for (let round = 1; round <= MAX_ROUNDS; round++) {
          rounds = round;
          await writeFile(join(checkDir.dir, "terraform.tfstate"), JSON.stringify(standIn.state, null, 2));
          const check = await checkDir.plan({ varFiles: ctx.varFiles, detailedExitcode: true, show: false });
          if (check.code !== 0) throw planFailed(`the base (${options.base.label}) against its stand-in state`, check);
          if (!check.changed) {
            if (cacheFile) writeCache(cacheFile, { standIn, rounds });
            return version;
          }
          const checked = await showPlan(checkDir.dir);
          pending = [
            ...(checked.resource_changes ?? [])
              .filter((rc) => rc.mode === "managed" && rc.change.actions.join() !== "no-op")
              .map((rc) => `${rc.address} (${rc.change.actions.join(",")})`),
            ...Object.entries(checked.output_changes ?? {})
              .filter(([, o]) => o.actions.join() !== "no-op")
              .map(([name]) => `output ${name}`),
          ];
          ctx.say(`the base still plans changes against its stand-in state (${pending.join(", ")}): taking them in`);
          standIn = applyPlan(standIn, checked, schemas, standInCtx, dependencies);
          version++;
        }
        throw new ToolError(
          `the base (${options.base.label}) still plans changes against its stand-in state after ${MAX_ROUNDS} rounds (${pending.join(", ")}): no verdicts can be given; plan against a real state with --state`,
        );
      })();
      return converged;
    };

    let heads = 0;
    const sameInitAsBase = initKey(options.base.json);
    return {
      region: ctx.region,
      accountId: ctx.accountId,
      schemas,
      current: () => standIn,
      async planHead(headSide) {
        const head = prepare(headSide.json, ctx.given, where, `head (${headSide.label})`);
        const shared = initKey(headSide.json) === sameInitAsBase;
        const headDir = await workdirIn(
          ctx,
          `head-${++heads}`,
          head.config,
          head.tfvars,
          shared ? first.dir : undefined,
        );
        if (!shared) await init(headDir);
        for (;;) {
          const used = version;
          await writeFile(join(headDir.dir, "terraform.tfstate"), JSON.stringify(standIn.state, null, 2));
          ctx.say(
            converged
              ? "planning the head against the stand-in state"
              : "planning the base against its stand-in state (it must say No changes) and the head against it",
          );
          // The check and the head's plan side by side; the head again if the check changed the state.
          const [final, plan] = await Promise.all([converge(), headDir.plan({ varFiles: ctx.varFiles })]);
          if (final !== used) continue;
          if (plan.code !== 0 || !plan.json) throw planFailed(`the head (${headSide.label})`, plan);
          return {
            head: plan.json,
            against: "stand-in state",
            standIns: standIn.standIns,
            rounds,
            standInVariables: [...new Set([...base.names, ...head.names])].sort(),
            region: ctx.region,
            accountId: ctx.accountId,
            awsCalls: [...headDir.aws.calls],
            schemas,
          };
        }
      },
      async dispose() {
        await Promise.all(ctx.workdirs.map((w) => w.dispose()));
        temp.remove();
      },
    };
  } catch (error) {
    await Promise.all((c?.workdirs ?? []).map((w) => w.dispose()));
    temp.remove();
    throw error;
  }
}

/** The head planned against a real state, and the base beside it. */
async function againstState(options: ChangePlanOptions & { stateFile: string }): Promise<ChangePlan> {
  const state = readStateFile(options.stateFile);
  const temp = tempDir("cricksy-diff-");
  let c: Context | undefined;
  try {
    c = await context({ ...options, accountId: options.accountId ?? stateAccountId(state) }, temp.dir);
    const where = { region: c.region, accountId: c.accountId };
    const base = prepare(options.base.json, c.given, where, `base (${options.base.label})`);
    const head = prepare(options.head.json, c.given, where, `head (${options.head.label})`);
    c.say("planning the base and the head against the state");
    const baseDir = await workdirIn(c, "base", base.config, base.tfvars);
    await init(baseDir);
    const shared = initKey(options.base.json) === initKey(options.head.json);
    const headDir = await workdirIn(c, "head", head.config, head.tfvars, shared ? baseDir.dir : undefined);
    if (!shared) await init(headDir);
    const schemas = await providerSchemas(baseDir.dir);
    const written = JSON.stringify(state);
    await Promise.all([baseDir, headDir].map((w) => writeFile(join(w.dir, "terraform.tfstate"), written)));
    const [basePlan, headPlan] = await Promise.all([
      baseDir.plan({ varFiles: c.varFiles }),
      headDir.plan({ varFiles: c.varFiles }),
    ]);
    if (headPlan.code !== 0 || !headPlan.json) throw planFailed(`the head (${options.head.label})`, headPlan);
    if (basePlan.code !== 0 || !basePlan.json) throw planFailed(`the base (${options.base.label})`, basePlan);
    return {
      head: headPlan.json,
      base: basePlan.json,
      against: "state",
      standIns: {},
      rounds: 0,
      standInVariables: [...new Set([...base.names, ...head.names])].sort(),
      region: c.region,
      accountId: c.accountId,
      awsCalls: [...headDir.aws.calls],
      schemas,
    };
  } finally {
    await Promise.all((c?.workdirs ?? []).map((w) => w.dispose()));
    temp.remove();
  }
}

export async function planChange(options: ChangePlanOptions): Promise<ChangePlan> {
  if (options.stateFile) return againstState({ ...options, stateFile: options.stateFile });
  const base = await standInBase(options);
  try {
    return await base.planHead(options.head);
  } finally {
    await base.dispose();
  }
}
