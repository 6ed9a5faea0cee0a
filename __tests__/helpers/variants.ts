/**
 * Variants of the real stack, synthesized, for the diff and state-check tests:
 * each one a change a pull request could make.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TerraformElement } from "cdktf";
import { LEGACY_BACKEND } from "../../stacks/compute-stack.js";
import { type Synthesized, synthCompute } from "./synth.js";

const child = (scope: { node: { findChild(id: string): unknown } }, ...path: string[]) =>
  path.reduce(
    (s, id) => (s as { node: { findChild(id: string): unknown } }).node.findChild(id),
    scope as unknown,
  ) as TerraformElement & {
    node: { tryRemoveChild(id: string): boolean };
  };

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

export function stackVariants() {
  const base = synthCompute();
  return {
    base,
    /** The attachment of the S3/SQS policy to the task role is gone. */
    removed: synthCompute({}, (stack) => {
      child(stack, "video-pipeline-access").node.tryRemoveChild("attachment");
    }),
    /** The worker service's address changes. */
    renamed: renamed(base, "aws_ecs_service", "worker", "analysis_worker"),
    /** The queue statement gains every SQS action (cdktf appends to a list it overrides). */
    widenedIam: synthCompute({}, (stack) => {
      child(stack, "video-pipeline-access", "document").addOverride("statement.2.actions", ["sqs:*"]);
    }),
    /** SSH from anywhere to the tasks. */
    openedPort: synthCompute({}, (stack) => {
      child(stack, "tasks-security-group", "security-group").addOverride("ingress.1", {
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
