/**
 * Is an object that Terraform created still there? Asked of the emulator through
 * the AWS SDK, per resource type, from the attributes that the state recorded
 * for it: what a `terraform destroy` must leave is checked against the API, not
 * against Terraform's own bookkeeping.
 *
 * "absent" is what a destroy can reach: deleted, or for an ECS task definition
 * deregistered (INACTIVE), for a KMS key scheduled for deletion.
 */
import {
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  type ServiceNamespace,
} from "@aws-sdk/client-application-auto-scaling";
import { DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import {
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListClustersCommand,
  ListTaskDefinitionsCommand,
} from "@aws-sdk/client-ecs";
import {
  GetPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListPoliciesCommand,
  ListRolesCommand,
} from "@aws-sdk/client-iam";
import { DescribeKeyCommand, ListAliasesCommand } from "@aws-sdk/client-kms";
import { GetSubscriptionAttributesCommand, GetTopicAttributesCommand, ListTopicsCommand } from "@aws-sdk/client-sns";
import type { AwsClients } from "./aws-clients.js";

export type Presence = "present" | "absent";
type Attributes = Record<string, unknown>;
type Check = (aws: AwsClients, a: Attributes) => Promise<Presence>;

const str = (a: Attributes, key: string): string => {
  const value = a[key];
  if (typeof value !== "string" || !value) throw new Error(`the state has no ${key} for this resource`);
  return value;
};

/** An AWS "does not exist" answer (each service names it its own way). */
function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? "";
  return /NotFound|NoSuchEntity|NonExistent|DoesNotExist|InvalidGroup\.NotFound|InvalidSecurityGroupRuleId/.test(name);
}

async function presentUnlessNotFound(call: () => Promise<Presence>): Promise<Presence> {
  try {
    return await call();
  } catch (error) {
    if (isNotFound(error)) return "absent";
    throw error;
  }
}

const present = (yes: boolean): Presence => (yes ? "present" : "absent");

export const LEFTOVER_CHECKS: Record<string, Check> = {
  aws_appautoscaling_target: async (aws, a) => {
    const out = await aws.appAutoScaling.send(
      new DescribeScalableTargetsCommand({
        ServiceNamespace: str(a, "service_namespace") as ServiceNamespace,
        ResourceIds: [str(a, "resource_id")],
      }),
    );
    return present((out.ScalableTargets ?? []).length > 0);
  },
  aws_appautoscaling_policy: async (aws, a) => {
    const out = await aws.appAutoScaling.send(
      new DescribeScalingPoliciesCommand({
        ServiceNamespace: str(a, "service_namespace") as ServiceNamespace,
        PolicyNames: [str(a, "name")],
      }),
    );
    return present((out.ScalingPolicies ?? []).length > 0);
  },
  aws_cloudwatch_log_group: async (aws, a) => {
    const name = str(a, "name");
    const out = await aws.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
    return present((out.logGroups ?? []).some((g) => g.logGroupName === name));
  },
  aws_cloudwatch_metric_alarm: async (aws, a) => {
    const out = await aws.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: [str(a, "alarm_name")] }));
    return present([...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].length > 0);
  },
  aws_ecs_cluster: async (aws, a) => {
    const out = await aws.ecs.send(new DescribeClustersCommand({ clusters: [str(a, "arn")] }));
    return present((out.clusters ?? []).some((c) => c.status === "ACTIVE"));
  },
  aws_ecs_service: async (aws, a) =>
    presentUnlessNotFound(async () => {
      const out = await aws.ecs.send(
        new DescribeServicesCommand({ cluster: str(a, "cluster"), services: [str(a, "name")] }),
      );
      return present((out.services ?? []).some((s) => s.status === "ACTIVE" || s.status === "DRAINING"));
    }),
  aws_ecs_task_definition: async (aws, a) =>
    presentUnlessNotFound(async () => {
      const out = await aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: str(a, "arn") }));
      return present(out.taskDefinition?.status === "ACTIVE");
    }),
  aws_iam_role: async (aws, a) =>
    presentUnlessNotFound(async () => {
      await aws.iam.send(new GetRoleCommand({ RoleName: str(a, "name") }));
      return "present";
    }),
  aws_iam_role_policy: async (aws, a) =>
    presentUnlessNotFound(async () => {
      await aws.iam.send(new GetRolePolicyCommand({ RoleName: str(a, "role"), PolicyName: str(a, "name") }));
      return "present";
    }),
  aws_iam_role_policy_attachment: async (aws, a) =>
    presentUnlessNotFound(async () => {
      const out = await aws.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: str(a, "role") }));
      return present((out.AttachedPolicies ?? []).some((p) => p.PolicyArn === str(a, "policy_arn")));
    }),
  aws_iam_policy: async (aws, a) =>
    presentUnlessNotFound(async () => {
      await aws.iam.send(new GetPolicyCommand({ PolicyArn: str(a, "arn") }));
      return "present";
    }),
  aws_security_group: async (aws, a) =>
    presentUnlessNotFound(async () => {
      const out = await aws.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [str(a, "id")] }));
      return present((out.SecurityGroups ?? []).length > 0);
    }),
  aws_vpc_security_group_egress_rule: (aws, a) => securityGroupRule(aws, a),
  aws_vpc_security_group_ingress_rule: (aws, a) => securityGroupRule(aws, a),
  aws_sns_topic: async (aws, a) =>
    presentUnlessNotFound(async () => {
      await aws.sns.send(new GetTopicAttributesCommand({ TopicArn: str(a, "arn") }));
      return "present";
    }),
  aws_sns_topic_policy: async (aws, a) =>
    presentUnlessNotFound(async () => {
      const out = await aws.sns.send(new GetTopicAttributesCommand({ TopicArn: str(a, "arn") }));
      // Deleting a topic policy puts the default one back; the stack's policy is gone when it differs.
      return present(out.Attributes?.Policy === a.policy);
    }),
  aws_sns_topic_subscription: async (aws, a) =>
    presentUnlessNotFound(async () => {
      await aws.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: str(a, "arn") }));
      return "present";
    }),
  aws_kms_key: async (aws, a) =>
    presentUnlessNotFound(async () => {
      const out = await aws.kms.send(new DescribeKeyCommand({ KeyId: str(a, "key_id") }));
      // KMS deletes a key 7-30 days after it is scheduled; scheduling is all a destroy can do.
      return present(out.KeyMetadata?.KeyState !== "PendingDeletion" && out.KeyMetadata?.KeyState !== "Disabled");
    }),
  aws_kms_alias: async (aws, a) => {
    const out = await aws.kms.send(new ListAliasesCommand({}));
    return present((out.Aliases ?? []).some((x) => x.AliasName === str(a, "name")));
  },
};

async function securityGroupRule(aws: AwsClients, a: Attributes): Promise<Presence> {
  return presentUnlessNotFound(async () => {
    const out = await aws.ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [str(a, "id")] }));
    return present((out.SecurityGroupRules ?? []).length > 0);
  });
}

/** Types of a list that have no check here (a test asserts none). */
export function typesWithoutLeftoverCheck(types: string[]): string[] {
  return [...new Set(types)].filter((t) => !(t in LEFTOVER_CHECKS)).sort();
}

export async function presence(aws: AwsClients, type: string, attributes: Attributes): Promise<Presence> {
  const check = LEFTOVER_CHECKS[type];
  if (!check) throw new Error(`no leftover check for ${type}: add one to __tests__/helpers/leftovers.ts`);
  return check(aws, attributes);
}

/**
 * What the project owns that is still live, found by listing each service rather than
 * from a state: ECS clusters and ACTIVE task definitions, IAM roles and customer
 * policies, log groups and alarms named with the project's prefix, scalable targets and
 * scaling policies of ECS, security groups of the VPC but its default and the given
 * ones, SNS topics. Catches what a failed apply created and never recorded.
 */
export async function liveProjectObjects(
  aws: AwsClients,
  options: { prefix: string; vpcId: string; keepSecurityGroups: string[] },
): Promise<string[]> {
  const { prefix } = options;
  const [clusters, taskDefinitions, roles, policies, logGroups, alarms, targets, scaling, groups, topics] =
    await Promise.all([
      aws.ecs.send(new ListClustersCommand({})),
      // familyPrefix takes a whole family name, so all ACTIVE ones, filtered below
      aws.ecs.send(new ListTaskDefinitionsCommand({ status: "ACTIVE" })),
      aws.iam.send(new ListRolesCommand({})),
      aws.iam.send(new ListPoliciesCommand({ Scope: "Local" })),
      aws.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: `/${prefix}/` })),
      aws.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix })),
      aws.appAutoScaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: "ecs" })),
      aws.appAutoScaling.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: "ecs" })),
      aws.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [options.vpcId] }] })),
      aws.sns.send(new ListTopicsCommand({})),
    ]);
  const named = (name: string | undefined) => name?.startsWith(prefix) ?? false;
  // ListClusters may still name a deleted (INACTIVE) cluster
  const ours = (clusters.clusterArns ?? []).filter((a) => named(a.split("/").at(-1)));
  const described = ours.length
    ? await aws.ecs.send(new DescribeClustersCommand({ clusters: ours }))
    : { clusters: [] };
  return [
    ...(described.clusters ?? []).filter((c) => c.status === "ACTIVE").map((c) => `ECS cluster ${c.clusterArn}`),
    ...(taskDefinitions.taskDefinitionArns ?? [])
      .filter((a) => named(a.split("/").at(-1)))
      .map((a) => `ECS task definition ${a}`),
    ...(roles.Roles ?? []).filter((r) => named(r.RoleName)).map((r) => `IAM role ${r.RoleName}`),
    ...(policies.Policies ?? []).filter((p) => named(p.PolicyName)).map((p) => `IAM policy ${p.PolicyName}`),
    ...(logGroups.logGroups ?? []).map((g) => `log group ${g.logGroupName}`),
    ...[...(alarms.MetricAlarms ?? []), ...(alarms.CompositeAlarms ?? [])].map((a) => `alarm ${a.AlarmName}`),
    ...(targets.ScalableTargets ?? []).map((t) => `scalable target ${t.ResourceId}`),
    ...(scaling.ScalingPolicies ?? []).map((p) => `scaling policy ${p.PolicyName}`),
    ...(groups.SecurityGroups ?? [])
      .filter((g) => g.GroupName !== "default" && !options.keepSecurityGroups.includes(g.GroupId ?? ""))
      .map((g) => `security group ${g.GroupId} (${g.GroupName})`),
    ...(topics.Topics ?? []).filter((t) => named(t.TopicArn?.split(":").at(-1))).map((t) => `SNS topic ${t.TopicArn}`),
  ].sort();
}
