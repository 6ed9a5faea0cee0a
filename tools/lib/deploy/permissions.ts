/**
 * What the CI deploy role must be allowed to do, per Terraform type of the stack: the
 * IAM actions that the AWS provider (hashicorp/aws 5.100.0) calls to read, create,
 * update, tag and delete that type, and the resources they act on. The generator
 * (tools/deploy-policy.ts) keeps only the types the synthesized stack has, so a type
 * the stack stops using drops out of the policy; a type without an entry here fails
 * the generator (and its test), naming it.
 *
 * Resources are patterns of the stack's names (every name starts with the project
 * name); `*` stands for the account and region, and for what the stack cannot name
 * (resource ids AWS assigns, actions without resource-level permissions). Sources:
 * the Service Authorization Reference of each service (actions, resource types,
 * condition keys) and the provider's documentation of each resource.
 */

/** What the patterns are made from. */
export interface PolicyNames {
  /** The project name: the prefix of every name the stack makes (`var.project_name`). */
  readonly project: string;
  /** The partition (`aws`). */
  readonly partition: string;
}

/** One statement's worth of permissions. */
export interface Grant {
  /** IAM actions, `service:Action`. */
  readonly actions: readonly string[];
  /** The resources, as patterns of the stack's names. */
  readonly resources: (names: PolicyNames) => string[];
  /** Conditions of the statement. @default - none */
  readonly condition?: Record<string, Record<string, string | string[]>>;
}

/** What one Terraform type needs: one or more grants, and why. */
export interface TypePermissions {
  /** Why these actions (what the provider does with them). */
  readonly why: string;
  readonly grants: readonly Grant[];
}

const ALL = () => ["*"];
const arn = (n: PolicyNames, service: string, rest: string) => `arn:${n.partition}:${service}:${rest}`;
const roles = (n: PolicyNames) => [arn(n, "iam", `:*:role/${n.project}-*`)];

/** Per Terraform type (`aws_ecs_service`, `data.aws_sqs_queue`): its permissions. */
export const TYPE_PERMISSIONS: Record<string, TypePermissions> = {
  aws_appautoscaling_target: {
    why: "Registers the worker service as a scalable target; the first one in an account creates Application Auto Scaling's service-linked role for ECS.",
    grants: [
      {
        actions: [
          "application-autoscaling:RegisterScalableTarget",
          "application-autoscaling:DescribeScalableTargets",
          "application-autoscaling:DeregisterScalableTarget",
          "application-autoscaling:TagResource",
          "application-autoscaling:UntagResource",
          "application-autoscaling:ListTagsForResource",
        ],
        resources: ALL,
      },
      {
        actions: ["iam:CreateServiceLinkedRole"],
        resources: (n) => [
          arn(
            n,
            "iam",
            ":*:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
          ),
        ],
        condition: { StringEquals: { "iam:AWSServiceName": "ecs.application-autoscaling.amazonaws.com" } },
      },
    ],
  },
  aws_appautoscaling_policy: {
    why: "The target tracking and step policies; target tracking creates and deletes its own CloudWatch alarms (TargetTracking-service/<cluster>/<service>-*) in the caller's name.",
    grants: [
      {
        actions: [
          "application-autoscaling:PutScalingPolicy",
          "application-autoscaling:DescribeScalingPolicies",
          "application-autoscaling:DeleteScalingPolicy",
        ],
        resources: ALL,
      },
      {
        actions: ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"],
        resources: (n) => [arn(n, "cloudwatch", `*:*:alarm:TargetTracking-service/${n.project}-cluster/*`)],
      },
    ],
  },
  aws_cloudwatch_log_group: {
    why: "The services' log groups, /<project>/<service>, their retention and tags.",
    grants: [
      {
        actions: [
          "logs:CreateLogGroup",
          "logs:DeleteLogGroup",
          "logs:PutRetentionPolicy",
          "logs:DeleteRetentionPolicy",
          "logs:TagResource",
          "logs:UntagResource",
          "logs:ListTagsForResource",
        ],
        resources: (n) => [arn(n, "logs", `*:*:log-group:/${n.project}/*`)],
      },
      { actions: ["logs:DescribeLogGroups"], resources: ALL },
    ],
  },
  aws_cloudwatch_metric_alarm: {
    why: "The worker's alarms, <project>-worker-*.",
    grants: [
      {
        actions: [
          "cloudwatch:PutMetricAlarm",
          "cloudwatch:DeleteAlarms",
          "cloudwatch:TagResource",
          "cloudwatch:UntagResource",
          "cloudwatch:ListTagsForResource",
        ],
        resources: (n) => [arn(n, "cloudwatch", `*:*:alarm:${n.project}-worker-*`)],
      },
      { actions: ["cloudwatch:DescribeAlarms"], resources: ALL },
    ],
  },
  aws_ecs_cluster: {
    why: "The cluster <project>-cluster and its Container Insights setting.",
    grants: [
      {
        actions: [
          "ecs:CreateCluster",
          "ecs:DescribeClusters",
          "ecs:UpdateCluster",
          "ecs:UpdateClusterSettings",
          "ecs:DeleteCluster",
          "ecs:TagResource",
          "ecs:UntagResource",
          "ecs:ListTagsForResource",
        ],
        resources: (n) => [arn(n, "ecs", `*:*:cluster/${n.project}-cluster`)],
      },
    ],
  },
  aws_ecs_service: {
    why: "The services in the cluster; wait_for_steady_state polls DescribeServices; the first service in an account creates ECS's service-linked role.",
    grants: [
      {
        actions: [
          "ecs:CreateService",
          "ecs:UpdateService",
          "ecs:DescribeServices",
          "ecs:DeleteService",
          "ecs:TagResource",
          "ecs:UntagResource",
          "ecs:ListTagsForResource",
        ],
        resources: (n) => [arn(n, "ecs", `*:*:service/${n.project}-cluster/*`)],
      },
      {
        actions: ["iam:CreateServiceLinkedRole"],
        resources: (n) => [arn(n, "iam", ":*:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS")],
        condition: { StringEquals: { "iam:AWSServiceName": "ecs.amazonaws.com" } },
      },
    ],
  },
  aws_ecs_task_definition: {
    why: "Task definition revisions (RegisterTaskDefinition and DescribeTaskDefinition take no resource); registering one passes its execution and task roles to ECS tasks.",
    grants: [
      {
        actions: ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition"],
        resources: ALL,
      },
      {
        actions: ["ecs:TagResource", "ecs:UntagResource", "ecs:ListTagsForResource"],
        resources: (n) => [arn(n, "ecs", `*:*:task-definition/${n.project}-*:*`)],
      },
      {
        actions: ["iam:PassRole"],
        resources: roles,
        condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      },
    ],
  },
  aws_iam_role: {
    why: "The execution role and the task roles, <project>-*: trust policy, description, tags; deleting one lists what is attached to it.",
    grants: [
      {
        actions: [
          "iam:CreateRole",
          "iam:GetRole",
          "iam:UpdateRole",
          "iam:UpdateRoleDescription",
          "iam:UpdateAssumeRolePolicy",
          "iam:DeleteRole",
          "iam:TagRole",
          "iam:UntagRole",
          "iam:ListRolePolicies",
          "iam:ListAttachedRolePolicies",
          "iam:ListInstanceProfilesForRole",
        ],
        resources: roles,
      },
    ],
  },
  aws_iam_role_policy: {
    why: "The roles' inline policies.",
    grants: [{ actions: ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"], resources: roles }],
  },
  aws_iam_role_policy_attachment: {
    why: "Managed policies attached to the roles (AmazonECSTaskExecutionRolePolicy, <project>-task-s3-sqs).",
    grants: [
      {
        actions: ["iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies"],
        resources: roles,
      },
    ],
  },
  aws_iam_policy: {
    why: "The customer managed policy <project>-task-s3-sqs and its versions.",
    grants: [
      {
        actions: [
          "iam:CreatePolicy",
          "iam:GetPolicy",
          "iam:GetPolicyVersion",
          "iam:ListPolicyVersions",
          "iam:CreatePolicyVersion",
          "iam:DeletePolicyVersion",
          "iam:DeletePolicy",
          "iam:TagPolicy",
          "iam:UntagPolicy",
        ],
        resources: (n) => [arn(n, "iam", `:*:policy/${n.project}-*`)],
      },
    ],
  },
  aws_kms_key: {
    why: "The alarm topic's key: created without a name (CreateKey takes no resource), then read and managed by its id; deletion is scheduled.",
    grants: [
      { actions: ["kms:CreateKey"], resources: ALL },
      {
        actions: [
          "kms:DescribeKey",
          "kms:GetKeyPolicy",
          "kms:PutKeyPolicy",
          "kms:GetKeyRotationStatus",
          "kms:EnableKeyRotation",
          "kms:DisableKeyRotation",
          "kms:UpdateKeyDescription",
          "kms:ListResourceTags",
          "kms:TagResource",
          "kms:UntagResource",
          "kms:ScheduleKeyDeletion",
        ],
        resources: (n) => [arn(n, "kms", "*:*:key/*")],
      },
    ],
  },
  aws_security_group: {
    why: "The tasks' and the worker's security groups and their rules (EC2 names groups by id; Describe* take no resource); deleting one waits for its network interfaces.",
    grants: [
      {
        actions: [
          "ec2:CreateSecurityGroup",
          "ec2:DeleteSecurityGroup",
          "ec2:AuthorizeSecurityGroupIngress",
          "ec2:AuthorizeSecurityGroupEgress",
          "ec2:RevokeSecurityGroupIngress",
          "ec2:RevokeSecurityGroupEgress",
          "ec2:CreateTags",
          "ec2:DeleteTags",
        ],
        resources: (n) => [arn(n, "ec2", "*:*:security-group/*"), arn(n, "ec2", "*:*:vpc/*")],
      },
      {
        actions: ["ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:DescribeNetworkInterfaces"],
        resources: ALL,
      },
    ],
  },
  aws_sns_topic: {
    why: "The alarm topic <project>-worker-alarms, its attributes (the KMS key) and tags.",
    grants: [
      {
        actions: [
          "sns:CreateTopic",
          "sns:GetTopicAttributes",
          "sns:SetTopicAttributes",
          "sns:DeleteTopic",
          "sns:TagResource",
          "sns:UntagResource",
          "sns:ListTagsForResource",
        ],
        resources: (n) => [arn(n, "sns", `*:*:${n.project}-worker-alarms`)],
      },
    ],
  },
  aws_sns_topic_subscription: {
    why: "The alarm topic's subscriptions (ARNs <topic ARN>:<id>).",
    grants: [
      {
        actions: [
          "sns:Subscribe",
          "sns:Unsubscribe",
          "sns:GetSubscriptionAttributes",
          "sns:SetSubscriptionAttributes",
          "sns:ListSubscriptionsByTopic",
        ],
        resources: (n) => [
          arn(n, "sns", `*:*:${n.project}-worker-alarms`),
          arn(n, "sns", `*:*:${n.project}-worker-alarms:*`),
        ],
      },
    ],
  },
  "data.aws_caller_identity": {
    why: "sts:GetCallerIdentity needs no permission: every principal may call it.",
    grants: [],
  },
  "data.aws_iam_policy_document": { why: "Rendered by Terraform itself: no AWS call.", grants: [] },
  "data.aws_partition": { why: "Known to the provider: no AWS call.", grants: [] },
  "data.aws_sqs_queue": {
    why: "Looks up the analysis queue and its dead-letter queue by name (their names come from the inputs).",
    grants: [
      {
        actions: ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ListQueueTags"],
        resources: (n) => [arn(n, "sqs", "*:*:*")],
      },
    ],
  },
};
