/**
 * What the construct tests share: cdktf's `Testing` matchers in vitest, a stack
 * with the things constructs refer to, and readers of the synthesized JSON.
 *
 * `Testing.setupJest()` extends the global `expect` (jest's); vitest's is made
 * global first. The matchers compare the snake_case attributes of the synth.
 */
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { TerraformStack, Testing } from "cdktf";
import { expect } from "vitest";
import type { AnalysisQueue } from "../../stacks/constructs/compute-locals.js";
import type { ContainerDefinition } from "../../stacks/constructs/container-definition.js";
import { TaskRoles } from "../../stacks/constructs/task-roles.js";
import { decodeJsonencode } from "../../tools/lib/stack/hcl.js";
import type { SynthJson } from "../helpers/synth.js";

Object.assign(globalThis, { expect });
Testing.setupJest();

/** A provider class: what the matchers take to know the Terraform type. */
interface TerraformConstructor {
  readonly tfResourceType: string;
}

declare module "vitest" {
  interface Matchers<R> {
    toHaveResource(type: TerraformConstructor): R;
    toHaveResourceWithProperties(type: TerraformConstructor, properties: Record<string, unknown>): R;
    toHaveDataSource(type: TerraformConstructor): R;
    toHaveDataSourceWithProperties(type: TerraformConstructor, properties: Record<string, unknown>): R;
  }
}

export const ACCOUNT = "123456789012";
export const REGION = "us-east-2";
export const QUEUE: AnalysisQueue = {
  name: "jobs",
  arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:jobs`,
  url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/jobs`,
  deadLetterQueueName: "jobs-dlq",
  deadLetterQueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:jobs-dlq`,
};

/** A stack holding what the constructs refer to: a cluster, the shared roles, a security group. */
export function givenStack() {
  const stack = new TerraformStack(Testing.app(), "test");
  const cluster = new EcsCluster(stack, "cluster", { name: "demo-cluster" });
  const roles = new TaskRoles(stack, "roles", {
    namePrefix: "demo",
    secretArns: [`arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:db`],
  });
  const securityGroup = new SecurityGroup(stack, "tasks", { name: "demo-tasks" });
  return { stack, cluster, roles, securityGroup, queue: QUEUE };
}

/** The stack as Terraform JSON: the text the matchers read, and its parsed form. */
export function synth(stack: TerraformStack): { text: string; json: SynthJson } {
  const text = Testing.synth(stack);
  return { text, json: JSON.parse(text) as SynthJson };
}

/** The block of `<type>.<name>` in a synth, or an error that names what is there. */
export function block(json: SynthJson, type: TerraformConstructor, name: string): Record<string, unknown> {
  const found = json.resource?.[type.tfResourceType]?.[name] ?? json.data?.[type.tfResourceType]?.[name];
  if (!found) {
    const there = Object.keys(json.resource?.[type.tfResourceType] ?? json.data?.[type.tfResourceType] ?? {});
    throw new Error(`${type.tfResourceType}.${name} is not in the synth (there: ${there.join(", ") || "none"})`);
  }
  return found;
}

/** Every block of a type in a synth, by name. */
export function blocks(json: SynthJson, type: TerraformConstructor): Record<string, Record<string, unknown>> {
  return json.resource?.[type.tfResourceType] ?? json.data?.[type.tfResourceType] ?? {};
}

/** The container definitions of a synthesized task definition, decoded from `jsonencode(...)`. */
export async function containersOf(taskDefinition: Record<string, unknown>): Promise<ContainerDefinition[]> {
  const decoded = await decodeJsonencode(taskDefinition.container_definitions as string);
  if (!Array.isArray(decoded)) throw new Error("container_definitions is not a jsonencode([...]) expression");
  return decoded as ContainerDefinition[];
}
