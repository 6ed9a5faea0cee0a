/**
 * Running the terraform binary offline: provider from the filesystem mirror,
 * no checkpoint calls, no prompts, no ambient AWS credentials, and every
 * non-loopback HTTP(S) connection sent to a proxy that refuses it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ProcessError } from "../cli/errors.js";
import { type ProcessResult, runProcess } from "../cli/process.js";
import { PROJECT_ROOT } from "../project.js";

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

export type TerraformResult = ProcessResult;

let terraformChecked = false;

/** Fails with a clear message when the terraform binary is missing. */
export async function assertTerraform(): Promise<void> {
  if (terraformChecked) return;
  const result = await runProcess("terraform", ["version", "-json"], { env: terraformEnv() }).catch(
    (error: unknown) => {
      throw new ProcessError(
        "terraform is not on PATH: install Terraform >= 1.9 (the project is tested with 1.11.4), see README",
        { command: "terraform version", code: 127, stdout: "", stderr: "" },
        { cause: error },
      );
    },
  );
  if (result.code !== 0) throw new ProcessError(`terraform version failed: ${result.stderr.trim()}`, result);
  terraformChecked = true;
}

/** Runs terraform with `-no-color` after the subcommand; never throws on a non-zero exit. */
export async function terraform(
  cwd: string,
  subcommand: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = terraformEnv(),
): Promise<TerraformResult> {
  await assertTerraform();
  return runProcess("terraform", [subcommand, "-no-color", ...args], { cwd, env });
}

/** Like `terraform`, but a non-zero exit code is a ProcessError with Terraform's own output. */
export async function terraformOk(
  cwd: string,
  subcommand: string,
  args: string[] = [],
  env?: NodeJS.ProcessEnv,
): Promise<TerraformResult> {
  const result = await terraform(cwd, subcommand, args, env);
  if (result.code !== 0) {
    throw new ProcessError(
      `terraform ${subcommand} failed (exit ${result.code}) in ${cwd}:\n${result.stderr}${result.stdout}`,
      result,
    );
  }
  return result;
}
