/**
 * Running Terraform offline against a synthesized stack: provider from the
 * filesystem mirror, state from a file, S3 backend replaced by a local one, and
 * the few AWS calls that a plan makes answered on loopback.
 *
 * Used by the tests and by `state:check --plan`; nothing here needs cloud credentials.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type StsResponder, startStsResponder } from "./sts-responder.js";

export const PROJECT_ROOT = resolve(import.meta.dirname, "..", "..");
export const PROVIDER_MIRROR = "/opt/tf-plugins";
export const MIRROR_CLI_CONFIG = join(PROJECT_ROOT, "terraform", "offline-mirror.tfrc");

/** A proxy address that refuses every connection: whatever is not loopback fails at once. */
const DEAD_PROXY = "http://127.0.0.1:9";

/**
 * The environment for a Terraform process: the mirror's CLI config where the mirror
 * exists (elsewhere the registry, as usual), no checkpoint calls, no prompts, and
 * every non-loopback HTTP(S) connection sent to a dead proxy.
 */
export function terraformEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CHECKPOINT_DISABLE: "1",
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    HTTP_PROXY: DEAD_PROXY,
    HTTPS_PROXY: DEAD_PROXY,
    NO_PROXY: "127.0.0.1,localhost",
    // No ambient credentials or profiles may leak into an offline plan.
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    ...extra,
  };
  if (existsSync(PROVIDER_MIRROR)) env.TF_CLI_CONFIG_FILE = MIRROR_CLI_CONFIG;
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return env;
}

export interface TerraformResult {
  code: number;
  stdout: string;
  stderr: string;
}

let terraformChecked = false;

/** Fails with a clear message when the terraform binary is missing. */
export async function assertTerraform(): Promise<void> {
  if (terraformChecked) return;
  const result = await run(["version", "-json"], process.cwd()).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") {
      throw new Error(
        "terraform is not on PATH: install Terraform >= 1.9 (the project is tested with 1.11.4), see README",
      );
    }
    throw error;
  });
  if (result.code !== 0) throw new Error(`terraform version failed: ${result.stderr}`);
  terraformChecked = true;
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = terraformEnv()): Promise<TerraformResult> {
  return new Promise((resolvePromise, reject) => {
    execFile("terraform", [...args], { cwd, env, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(error);
      resolvePromise({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
    });
  });
}

/** Runs terraform with `-no-color` after the subcommand; never throws on a non-zero exit. */
export async function terraform(cwd: string, subcommand: string, args: string[] = [], env?: NodeJS.ProcessEnv) {
  await assertTerraform();
  return run([subcommand, "-no-color", ...args], cwd, env);
}

/** Like `terraform`, but a non-zero exit code throws with Terraform's own output. */
export async function terraformOk(cwd: string, subcommand: string, args: string[] = [], env?: NodeJS.ProcessEnv) {
  const result = await terraform(cwd, subcommand, args, env);
  if (result.code !== 0) {
    throw new Error(
      `terraform ${subcommand} failed (exit ${result.code}) in ${cwd}:\n${result.stderr}${result.stdout}`,
    );
  }
  return result;
}

export interface OfflineWorkdir {
  dir: string;
  sts: StsResponder;
  /** Stops the STS responder and deletes the folder. */
  dispose(): Promise<void>;
}

export interface OfflineWorkdirOptions {
  /** The Terraform configuration: a folder's `.tf`/`.tf.json` files are copied by the caller, or one JSON file here. */
  configFile?: string;
  /** A state (as `terraform state pull` writes it) to plan against; none means an empty state. */
  stateFile?: string;
  /** Account id that `sts:GetCallerIdentity` returns. Default: the legacy account. */
  accountId?: string;
  /** Where to make the folder. Default: a new temp folder. */
  dir?: string;
}

/**
 * A folder where `terraform init/validate/plan` run without network or credentials:
 * the configuration, an `override.tf.json` that swaps the S3 backend for a local one
 * and points the AWS provider's STS endpoint at a loopback responder, and the state.
 */
export async function offlineWorkdir(options: OfflineWorkdirOptions = {}): Promise<OfflineWorkdir> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "cricksy-tf-")));
  const sts = await startStsResponder({ accountId: options.accountId ?? "123456789012" });
  if (options.configFile) await copyFile(options.configFile, join(dir, "cdk.tf.json"));
  await writeFile(join(dir, "override.tf.json"), JSON.stringify(offlineOverride(sts.url), null, 2));
  if (options.stateFile) await copyFile(options.stateFile, join(dir, "terraform.tfstate"));
  return {
    dir,
    sts,
    async dispose() {
      await sts.close();
      if (!options.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The override file: local backend, dummy credentials, STS on loopback, no other AWS calls. */
export function offlineOverride(stsUrl: string) {
  return {
    terraform: { backend: { local: { path: "terraform.tfstate" } } },
    provider: {
      aws: {
        access_key: "offline-plan",
        secret_key: "offline-plan",
        skip_credentials_validation: true,
        skip_requesting_account_id: true,
        skip_metadata_api_check: "true",
        skip_region_validation: true,
        endpoints: { sts: stsUrl },
      },
    },
  };
}

export interface PlanOptions {
  varFile?: string;
  varFiles?: string[];
  vars?: Record<string, string>;
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

export interface TerraformPlanJson {
  format_version: string;
  resource_changes?: ResourceChange[];
  output_changes?: Record<string, { actions: string[]; before: unknown; after: unknown }>;
  planned_values?: { root_module: { resources?: PlannedResource[] }; outputs?: Record<string, unknown> };
  configuration?: { root_module: { resources?: { address: string }[]; variables?: Record<string, unknown> } };
}

export interface PlannedResource {
  address: string;
  mode: string;
  type: string;
  name: string;
  values: Record<string, unknown>;
}

/** `terraform init` (once per folder) and `terraform plan -out`, then the plan as JSON. */
export async function plan(dir: string, options: PlanOptions = {}): Promise<PlanResult> {
  if (!existsSync(join(dir, ".terraform"))) await terraformOk(dir, "init", ["-input=false"]);
  const args = ["-input=false", "-lock=false", "-out=tfplan", `-refresh=${options.refresh ?? false}`];
  for (const file of [...(options.varFile ? [options.varFile] : []), ...(options.varFiles ?? [])]) {
    args.push(`-var-file=${file}`);
  }
  for (const [key, value] of Object.entries(options.vars ?? {})) args.push(`-var=${key}=${value}`);
  const result = await terraform(dir, "plan", args);
  if (result.code !== 0) return result;
  const shown = await terraformOk(dir, "show", ["-json", "tfplan"]);
  return { ...result, json: JSON.parse(shown.stdout) as TerraformPlanJson };
}

/** Resource changes that are not a no-op (read of a data source excluded). */
export function effectiveChanges(planJson: TerraformPlanJson): ResourceChange[] {
  return (planJson.resource_changes ?? []).filter(
    (rc) => rc.mode === "managed" && !(rc.change.actions.length === 1 && rc.change.actions[0] === "no-op"),
  );
}
