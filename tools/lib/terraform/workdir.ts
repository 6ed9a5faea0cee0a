/**
 * A folder where `terraform init/validate/plan` run offline against a
 * configuration (a synthesized stack, or an HCL module): an `override.tf.json`
 * swaps the S3 backend for a local one, gives the AWS provider dummy
 * credentials and points its STS and SQS endpoints at a loopback responder
 * (aws-responder.ts), and the state, when given, is the local state.
 *
 *   const workdir = await offlineWorkdir({ configFile: synth.file, stateFile: LEGACY_STATE });
 *   const result = await workdir.plan({ varFile: LEGACY_TFVARS });  // the plan's JSON in result.json
 *   workdir.aws.calls;                                             // what the plan asked of AWS
 *   await workdir.dispose();
 *
 * Before each plan the responder learns the region and the queues from the
 * plan's inputs (inputs.ts: the analysis queue and its dead-letter queue), unless
 * `queues` fixes them. Used by the tests and by `state:check --plan`; nothing
 * here needs cloud credentials.
 */
import { copyFile, cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AwsResponder, type QueueSpec, startAwsResponder } from "./aws-responder.js";
import { planInputs, queuesFor, regionOf } from "./inputs.js";
import { type PlanOptions, type PlanResult, plan, varFilesOf } from "./plan.js";
import { type TerraformResult, terraform } from "./run.js";

/** The account of the legacy production state: the default caller identity. */
export const LEGACY_ACCOUNT_ID = "123456789012";

export interface OfflineWorkdirOptions {
  /** One synthesized stack (`cdk.tf.json`), copied in as `cdk.tf.json`. */
  configFile?: string;
  /** A folder of `.tf`/`.tf.json` files (an HCL module), copied in. */
  module?: string;
  /** A state (as `terraform state pull` writes it) to plan against; none means an empty state. */
  stateFile?: string;
  /** The account that STS reports and that queues belong to. Default: LEGACY_ACCOUNT_ID. */
  accountId?: string;
  /** The queues that SQS knows, for every plan. Default: those of each plan's inputs (`queuesFor`). */
  queues?: QueueSpec[];
  /** Where to make the folder (kept on dispose). Default: a new temp folder (deleted on dispose). */
  dir?: string;
  /** The configuration as JSON, written as `cdk.tf.json` (instead of copying `configFile`). */
  config?: object;
  /** A state as JSON, written as the local state (instead of copying `stateFile`). */
  state?: object;
  /**
   * An initialized workdir to share: its `.terraform` (providers) is linked and its lock file copied,
   * so this one needs no `terraform init` (for configurations with the same provider requirements).
   */
  initFrom?: string;
  /** A responder to use (and leave running on dispose) instead of starting one. */
  aws?: AwsResponder;
  /** The responder answers every queue name (see AwsResponderOptions.answerAnyQueue). Default: false. */
  answerAnyQueue?: boolean;
}

export interface OfflineWorkdir {
  dir: string;
  /** The loopback AWS endpoint: its `calls` are what the plans asked. */
  aws: AwsResponder;
  /** Sets the responder up for a plan with these inputs (region, queues); `plan` does it itself. For plans run by another program (cdktf). */
  prepare(options?: PlanOptions): Promise<void>;
  /** `terraform plan` here (init first when needed), the responder set up for the plan's inputs. */
  plan(options?: PlanOptions): Promise<PlanResult>;
  /** Any terraform subcommand here (`-no-color` added); never throws on a non-zero exit. */
  terraform(subcommand: string, args?: string[]): Promise<TerraformResult>;
  /** Stops the responder and deletes the folder (unless `dir` was given). */
  dispose(): Promise<void>;
}

/** The override file: local backend, dummy credentials, STS and SQS on loopback, no other AWS calls. */
export function offlineOverride(endpoint: string) {
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
        endpoints: { sts: endpoint, sqs: endpoint },
      },
    },
  };
}

export async function offlineWorkdir(options: OfflineWorkdirOptions = {}): Promise<OfflineWorkdir> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "cricksy-tf-")));
  if (options.dir) await mkdir(dir, { recursive: true });
  const aws =
    options.aws ??
    (await startAwsResponder({
      accountId: options.accountId ?? LEGACY_ACCOUNT_ID,
      queues: options.queues,
      answerAnyQueue: options.answerAnyQueue,
    }));
  if (options.module) await cp(options.module, dir, { recursive: true });
  if (options.configFile) await copyFile(options.configFile, join(dir, "cdk.tf.json"));
  if (options.config) await writeFile(join(dir, "cdk.tf.json"), JSON.stringify(options.config, null, 2));
  await writeFile(join(dir, "override.tf.json"), JSON.stringify(offlineOverride(aws.url), null, 2));
  if (options.stateFile) await copyFile(options.stateFile, join(dir, "terraform.tfstate"));
  if (options.state) await writeFile(join(dir, "terraform.tfstate"), JSON.stringify(options.state, null, 2));
  if (options.initFrom) {
    await symlink(join(options.initFrom, ".terraform"), join(dir, ".terraform"), "dir");
    await copyFile(join(options.initFrom, ".terraform.lock.hcl"), join(dir, ".terraform.lock.hcl"));
  }
  const prepare = async (planOptions: PlanOptions = {}) => {
    // Inputs Terraform cannot read make the plan fail with Terraform's own message; the responder then knows no queues.
    const inputs = await planInputs(dir, { varFiles: varFilesOf(planOptions), vars: planOptions.vars }).catch(
      () => ({}),
    );
    aws.setQueues(options.queues ?? queuesFor(inputs), regionOf(inputs));
  };
  return {
    dir,
    aws,
    prepare,
    async plan(planOptions: PlanOptions = {}) {
      await prepare(planOptions);
      return plan(dir, planOptions);
    },
    terraform: (subcommand, args = []) => terraform(dir, subcommand, args),
    async dispose() {
      if (!options.aws) await aws.close();
      if (!options.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
