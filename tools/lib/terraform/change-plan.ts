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
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ToolError, UsageError } from "../cli/errors.js";
import type { StackJson } from "../stack/read.js";
import { readStateFile, stateAccountId } from "../state/read.js";
import type { AwsCall } from "./aws-responder.js";
import { inlineReferences, mergePlan, type StandInState, stateFromPlan } from "./base-state.js";
import { type Inputs, planInputs, standInInputs, withoutValidation } from "./inputs.js";
import { type PlanResult, showPlan, type TerraformPlanJson } from "./plan.js";
import { terraformOk } from "./run.js";
import { type ProviderSchemas, providerSchemas } from "./schema.js";
import type { StandInContext } from "./stand-ins.js";
import { LEGACY_ACCOUNT_ID, type OfflineWorkdir, offlineWorkdir } from "./workdir.js";

/** Plans of the base against its stand-in state before giving up (the first is the check itself). */
export const MAX_ROUNDS = 3;

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

export async function planChange(options: ChangePlanOptions): Promise<ChangePlan> {
  const say = options.progress ?? (() => {});
  const varFiles = options.varFiles ?? [];
  const root = await mkdtemp(join(tmpdir(), "cricksy-diff-"));
  const workdirs: OfflineWorkdir[] = [];
  try {
    const given = await planInputs(root, { varFiles });
    const state = options.stateFile ? readStateFile(options.stateFile) : undefined;
    const accountId = options.accountId ?? (state ? stateAccountId(state) : undefined) ?? LEGACY_ACCOUNT_ID;
    const defaults = (json: StackJson) =>
      Object.fromEntries(
        Object.entries(json.variable ?? {})
          .filter(([, v]) => v && "default" in v)
          .map(([k, v]) => [k, v.default]),
      );
    const region = providerRegion(options.base.json, { ...defaults(options.base.json), ...given });
    const where = { region, accountId };
    const base = prepare(options.base.json, given, where, `base (${options.base.label})`);
    const head = prepare(options.head.json, given, where, `head (${options.head.label})`);
    const standInVariables = [...new Set([...base.names, ...head.names])].sort();

    const workdir = async (name: string, config: object, tfvars: Record<string, unknown>, initFrom?: string) => {
      const made = await offlineWorkdir({ dir: join(root, name), config, accountId, answerAnyQueue: true, initFrom });
      workdirs.push(made);
      if (Object.keys(tfvars).length) {
        await writeFile(join(made.dir, "stand-ins.auto.tfvars.json"), JSON.stringify(tfvars, null, 2));
      }
      return made;
    };
    const init = async (made: OfflineWorkdir) => {
      await terraformOk(made.dir, "init", ["-input=false", "-backend=true"]);
    };
    const planFailed = (what: string, result: PlanResult) =>
      new ToolError(`terraform plan of ${what} failed: ${terraformError(result)}`);

    if (state && options.stateFile) {
      say("planning base and head against the state");
      const baseDir = await workdir("base", base.config, base.tfvars);
      await init(baseDir);
      const sameInit = initKey(options.base.json) === initKey(options.head.json);
      const headDir = await workdir("head", head.config, head.tfvars, sameInit ? baseDir.dir : undefined);
      if (!sameInit) await init(headDir);
      await Promise.all(
        [baseDir, headDir].map((w) => writeFile(join(w.dir, "terraform.tfstate"), JSON.stringify(state))),
      );
      const [basePlan, headPlan] = await Promise.all([baseDir.plan({ varFiles }), headDir.plan({ varFiles })]);
      if (headPlan.code !== 0 || !headPlan.json) throw planFailed(`the head (${options.head.label})`, headPlan);
      if (basePlan.code !== 0 || !basePlan.json) throw planFailed(`the base (${options.base.label})`, basePlan);
      return {
        head: headPlan.json,
        base: basePlan.json,
        against: "state",
        standIns: {},
        rounds: 0,
        standInVariables,
        region,
        accountId,
        awsCalls: headDir.aws.calls,
      };
    }

    // 1. The base, its references inlined, against an empty state: every value but the computed ones.
    say("initializing Terraform (provider from the mirror or the plugin cache)");
    const first = await workdir("base-empty", base.config, base.tfvars);
    await init(first);
    const schemas: ProviderSchemas = await providerSchemas(first.dir);
    const ctx: StandInContext = { region, accountId };
    const inlined = inlineReferences(base.config as StackJson, schemas, ctx);
    await writeFile(join(first.dir, "cdk.tf.json"), JSON.stringify(inlined.json, null, 2));
    say("planning the base against an empty state");
    let empty = await first.plan({ varFiles });
    if (empty.code !== 0 || !empty.json) {
      // Not the inlining's fault if the base itself does not plan: say what Terraform says about the base.
      await writeFile(join(first.dir, "cdk.tf.json"), JSON.stringify(base.config, null, 2));
      empty = await first.plan({ varFiles });
      if (empty.code !== 0 || !empty.json) throw planFailed(`the base (${options.base.label})`, empty);
    }
    const seed = createHash("sha256").update(JSON.stringify(options.base.json)).digest("hex");
    let standIn: StandInState = stateFromPlan(empty.json, schemas, ctx, seed);

    // 2. The base against that state ("No changes", or fix-ups) beside the head against it.
    const checkDir = await workdir("base", base.config, base.tfvars, first.dir);
    const sameInit = initKey(options.base.json) === initKey(options.head.json);
    const headDir = await workdir("head", head.config, head.tfvars, sameInit ? first.dir : undefined);
    if (!sameInit) await init(headDir);
    const pending: string[] = [];
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      say(
        round === 1
          ? "planning the base against its stand-in state (it must say No changes) and the head against it"
          : `round ${round}: the stand-in state takes what the base's plan knew; planning both again`,
      );
      const written = JSON.stringify(standIn.state, null, 2);
      await Promise.all([checkDir, headDir].map((w) => writeFile(join(w.dir, "terraform.tfstate"), written)));
      const [check, headPlan] = await Promise.all([
        checkDir.plan({ varFiles, detailedExitcode: true, show: false }),
        headDir.plan({ varFiles }),
      ]);
      if (check.code !== 0) throw planFailed(`the base (${options.base.label}) against its stand-in state`, check);
      if (!check.changed) {
        if (headPlan.code !== 0 || !headPlan.json) throw planFailed(`the head (${options.head.label})`, headPlan);
        return {
          head: headPlan.json,
          against: "stand-in state",
          standIns: standIn.standIns,
          rounds: round,
          standInVariables,
          region,
          accountId,
          awsCalls: headDir.aws.calls,
        };
      }
      const checked = await showPlan(checkDir.dir);
      pending.splice(
        0,
        pending.length,
        ...(checked.resource_changes ?? [])
          .filter((rc) => rc.mode === "managed" && rc.change.actions.join() !== "no-op")
          .map((rc) => `${rc.address} (${rc.change.actions.join(",")})`),
        ...Object.entries(checked.output_changes ?? {})
          .filter(([, o]) => o.actions.join() !== "no-op")
          .map(([name]) => `output ${name}`),
      );
      standIn = mergePlan(standIn, checked, schemas, ctx);
    }
    throw new ToolError(
      `the base (${options.base.label}) still plans changes against its stand-in state after ${MAX_ROUNDS} rounds (${pending.join(", ")}): no verdicts can be given; plan against a real state with --state`,
    );
  } finally {
    await Promise.all(workdirs.map((w) => w.dispose()));
    await rm(root, { recursive: true, force: true });
  }
}
