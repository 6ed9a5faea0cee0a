/**
 * Variants of the real stack, synthesized, for the diff and state-check tests:
 * each one a change a pull request could make. Elements are found by their
 * Terraform address (a contract), not by construct path (free to change).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TerraformDataSource, TerraformResource } from "cdktf";
import type { IConstruct } from "constructs";
import { LEGACY_BACKEND } from "../../stacks/compute-stack.js";
import { decodeJsonencode } from "../../tools/lib/stack/hcl.js";
import { type Synthesized, synthCompute } from "./synth.js";

/** The resource or data source of `scope` at a Terraform address (`type.name`, `data.type.name`). */
export function elementAt(scope: IConstruct, address: string): TerraformResource | TerraformDataSource {
  const found = scope.node.findAll().find((c): c is TerraformResource | TerraformDataSource => {
    if (c instanceof TerraformResource) return `${c.terraformResourceType}.${c.friendlyUniqueId}` === address;
    if (c instanceof TerraformDataSource) return `data.${c.terraformResourceType}.${c.friendlyUniqueId}` === address;
    return false;
  });
  if (!found) throw new Error(`no element at ${address} in the stack`);
  return found;
}

/** Removes the element at `address` from the construct tree. */
function remove(scope: IConstruct, address: string): void {
  const element = elementAt(scope, address);
  element.node.scope?.node.tryRemoveChild(element.node.id);
}

/**
 * A rename of an address everywhere in a synth: what changing a pin() name
 * produces. (cdktf bakes a logical id into every reference when the reference
 * is made, so a rename cannot be applied to a finished construct tree.)
 */
function renamed(base: Synthesized, type: string, from: string, to: string): Synthesized {
  const text = readFileSync(base.file, "utf8").replaceAll(`${type}.${from}.`, `${type}.${to}.`);
  const json = JSON.parse(text);
  const blocks = json.resource[type];
  json.resource[type] = Object.fromEntries(Object.entries(blocks).map(([k, v]) => [k === from ? to : k, v]));
  const file = join(base.outdir, "stacks", "compute", `renamed-${to}.tf.json`);
  writeFileSync(file, JSON.stringify(json, null, 2));
  return { outdir: base.outdir, file, json };
}

/**
 * The stack with the worker's container definition changed as `change` says
 * (on the decoded value), written back as a jsonencode expression of its JSON
 * (JSON is HCL; the `${...}` strings of references are templates that yield them).
 */
export async function withWorkerContainer(change: (container: Record<string, unknown>) => void): Promise<Synthesized> {
  const base = synthCompute();
  const text = base.json.resource.aws_ecs_task_definition.worker.container_definitions as string;
  const definitions = (await decodeJsonencode(text)) as Record<string, unknown>[];
  change(definitions[0]);
  return synthCompute({}, (stack) => {
    elementAt(stack, "aws_ecs_task_definition.worker").addOverride(
      "container_definitions",
      `\${jsonencode(${JSON.stringify(definitions)})}`,
    );
  });
}

export function stackVariants() {
  const base = synthCompute();
  return {
    base,
    /** The attachment of the S3/SQS policy to the task role is gone. */
    removed: synthCompute({}, (stack) => remove(stack, "aws_iam_role_policy_attachment.task_s3_sqs")),
    /** The worker service's address changes. */
    renamed: renamed(base, "aws_ecs_service", "worker", "analysis_worker"),
    /** The queue statement gains every SQS action (cdktf appends to a list it overrides). */
    widenedIam: synthCompute({}, (stack) => {
      elementAt(stack, "data.aws_iam_policy_document.task_s3_sqs").addOverride("statement.2.actions", ["sqs:*"]);
    }),
    /** SSH from anywhere to the tasks. */
    openedPort: synthCompute({}, (stack) => {
      elementAt(stack, "aws_security_group.ecs_tasks").addOverride("ingress.1", {
        description: "SSH for debugging",
        from_port: 22,
        to_port: 22,
        protocol: "tcp",
        cidr_blocks: ["0.0.0.0/0"],
        ipv6_cidr_blocks: null,
        prefix_list_ids: null,
        security_groups: null,
        self: null,
      });
    }),
    /** The state key moves. */
    backendKey: synthCompute({ backend: { ...LEGACY_BACKEND, key: "compute/v2/terraform.tfstate" } }),
  };
}
