import { join } from "node:path";
import { BASELINE } from "../../tools/lib/project.js";
import { addresses, loadStack } from "../../tools/lib/stack/read.js";
import { readStateFile, type StateFile, stateAddresses } from "../../tools/lib/state/read.js";

export const FIXTURES = join(import.meta.dirname, "..", "fixtures");
export const LEGACY = join(FIXTURES, "legacy");
export const LEGACY_MODULE = join(LEGACY, "compute");
export const LEGACY_STATE = join(LEGACY, "prod.tfstate");
export const LEGACY_TFVARS = join(LEGACY, "prod.tfvars");
export const STAGING_TFVARS = join(FIXTURES, "staging.tfvars");
/** The second legacy state: the legacy module applied to moto as another account, region and names (legacy-qa/regenerate.ts). */
export const QA = join(FIXTURES, "legacy-qa");
export const QA_STATE = join(QA, "qa.tfstate");
export const QA_TFVARS = join(QA, "qa.tfvars");

export type { StateFile };
export { stateAddresses };

/** A state file, read as the tools read it (default: the legacy production state). */
export function readState(file = LEGACY_STATE): StateFile {
  return readStateFile(file);
}

/** The managed resources a configuration has and a state has not: what a plan against the state must create. */
export function newResources(config: Parameters<typeof addresses>[0], state: StateFile = readState()): string[] {
  const inState = new Set(stateAddresses(state, "managed"));
  return addresses(config, "managed").filter((address) => !inState.has(address));
}

/**
 * What the default stack adds to the legacy module (managed resources), derived from the committed synth
 * (baseline/compute.tf.json, which CI keeps equal to the synth) and the production state: no list to keep by hand.
 * @deprecated for new tests: use `newResources(synth.json)`.
 */
export const WORKER_OPERATIONS_RESOURCES = newResources(loadStack(BASELINE).json);

/**
 * The synth's resources that exist by a condition on the inputs (`count`, `for_each`), and the
 * instances they have with inputs that set none of the optional ones (no KMS keys, no alarm
 * subscriptions, no outside alarm topic): the stack's own alarm key and topic, nothing else.
 */
export const CONDITIONAL_INSTANCES: Record<string, string[]> = {
  "aws_kms_key.worker_alarms": ["aws_kms_key.worker_alarms[0]"],
  "aws_sns_topic.worker_alarms": ["aws_sns_topic.worker_alarms[0]"],
  "aws_sns_topic_subscription.worker_alarms": [],
  "aws_iam_role_policy.task_kms": [],
  "aws_iam_role_policy.worker_task_kms": [],
};

/**
 * What a plan must create against a legacy state, with inputs that set none of the optional
 * ones: the instances of the managed resources the configuration has and the state has not.
 */
export function newInstances(config: Parameters<typeof addresses>[0], state: StateFile = readState()): string[] {
  return newResources(config, state).flatMap((address) => CONDITIONAL_INSTANCES[address] ?? [address]);
}

/**
 * Terraform's verdict on each address of a legacy state that the worker's operations change
 * (docs/worker-operations.md, *State safety*); every other address of the state is a no-op.
 * state-safety.test.ts holds the offline plans to it, apply/migration.test.ts the switch-over on moto.
 */
export const CHANGED_IN_STATE: Record<string, "update" | "replace"> = {
  // its own security group, deployment alarm, steady-state wait and the new revision: all in place
  "aws_ecs_service.worker": "update",
  // create_before_destroy: the new revision first. The legacy state's skip_destroy = false
  // deregisters the old revision (INACTIVE) once the new one is in (docs/migration.md)
  "aws_ecs_task_definition.worker": "replace",
  // the backend's task role: the trust policy gains the confused-deputy conditions
  "aws_iam_role.task": "update",
};

/** The legacy states the stack must plan safely against, each with the inputs it was applied with and its account. */
export const LEGACY_STATES = [
  {
    name: "prod.tfstate",
    stateFile: LEGACY_STATE,
    varFile: LEGACY_TFVARS,
    accountId: "123456789012",
    region: "us-east-2",
    project: "cricksy-ai",
  },
  {
    name: "qa.tfstate (moto)",
    stateFile: QA_STATE,
    varFile: QA_TFVARS,
    accountId: "210987654321",
    region: "eu-west-1",
    project: "video-lab",
  },
] as const;

/** The two sets of inputs the offline plans run with: production's, and a very different staging (other account, region, names). */
export const INPUT_SETS = [
  { name: "prod.tfvars", varFile: LEGACY_TFVARS, accountId: "123456789012" },
  { name: "staging.tfvars", varFile: STAGING_TFVARS, accountId: "210987654321" },
] as const;
