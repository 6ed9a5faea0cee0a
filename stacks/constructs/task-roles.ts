import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Construct } from "constructs";
import { pin } from "../pin.js";
import type { Tags } from "../tags.js";

export interface TaskRolesProps {
  /** Prefix of the role and policy names. */
  readonly namePrefix: string;
  /** Secrets Manager ARNs that the execution role may read to inject secrets into containers. */
  readonly secretArns: string[];
  /**
   * Where the tasks that may assume the task roles run: with it, the task roles' trust
   * policy (`data.aws_iam_policy_document.ecs_task_role_assume`) admits ECS tasks only on
   * behalf of this account and region (`aws:SourceAccount`, `aws:SourceArn`), as AWS
   * documents for task roles against the confused deputy. The execution role keeps the
   * plain trust policy AWS documents for it. @default - none: both roles trust ECS tasks plainly (legacy)
   */
  readonly trustedSource?: TrustedSource;
  /** Partition of the managed policy's ARN. @default "aws" */
  readonly partition?: string;
  /** Tags of the roles. @default - none */
  readonly tags?: Tags;
}

/** The account, region and partition whose ECS tasks may assume the task roles. */
export interface TrustedSource {
  /** The account of the tasks (`aws:SourceAccount`). */
  readonly accountId: string;
  /** The region of the tasks (in `aws:SourceArn`). */
  readonly region: string;
  /** The partition (in `aws:SourceArn`). */
  readonly partition: string;
}

/**
 * A trust policy statement for ECS tasks, with AWS's confused-deputy conditions when
 * `source` is given (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html).
 */
export function ecsTasksTrust(source?: TrustedSource) {
  return {
    actions: ["sts:AssumeRole"],
    principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
    ...(source
      ? {
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [source.accountId] },
            {
              test: "ArnLike",
              variable: "aws:SourceArn",
              values: [`arn:${source.partition}:ecs:${source.region}:${source.accountId}:*`],
            },
          ],
        }
      : {}),
  };
}

/**
 * The two IAM roles that ECS tasks use:
 * - the execution role (`aws_iam_role.task_execution`): ECS itself pulls images,
 *   writes logs and reads the secrets that containers get as variables;
 * - the task role (`aws_iam_role.task`): what the application code may call
 *   (the backend's; the worker has its own with its operations, `WorkerTaskRole`).
 * Both trust ECS tasks (`assumeRolePolicy`, `data.aws_iam_policy_document.ecs_tasks_assume`);
 * with `trustedSource` the task role trusts them only for this account and region
 * (`taskRoleAssumePolicy`, `data.aws_iam_policy_document.ecs_task_role_assume`).
 */
export class TaskRoles extends Construct {
  /** The execution role's trust policy: ECS tasks may assume it (`data.aws_iam_policy_document.ecs_tasks_assume`). */
  readonly assumeRolePolicy: DataAwsIamPolicyDocument;
  /**
   * The task roles' trust policy: `assumeRolePolicy`, or with `trustedSource` the one
   * with its conditions (`data.aws_iam_policy_document.ecs_task_role_assume`).
   */
  readonly taskRoleAssumePolicy: DataAwsIamPolicyDocument;
  /** `aws_iam_role.task_execution`: what ECS uses to start the tasks. */
  readonly executionRole: IamRole;
  /** `aws_iam_role.task`: the shared task role (the backend's; the legacy worker's). */
  readonly taskRole: IamRole;

  constructor(scope: Construct, id: string, props: TaskRolesProps) {
    super(scope, id);
    if (props.secretArns.length === 0) {
      throw new Error(
        "TaskRoles: secretArns is empty: give the ARN of each secret the containers get (IAM rejects a statement without resources)",
      );
    }

    this.assumeRolePolicy = pin(
      new DataAwsIamPolicyDocument(this, "ecs-tasks-assume", { statement: [ecsTasksTrust()] }),
      "ecs_tasks_assume",
    );
    this.taskRoleAssumePolicy = props.trustedSource
      ? pin(
          new DataAwsIamPolicyDocument(this, "task-role-assume", { statement: [ecsTasksTrust(props.trustedSource)] }),
          "ecs_task_role_assume",
        )
      : this.assumeRolePolicy;

    this.executionRole = pin(
      new IamRole(this, "execution-role", {
        name: `${props.namePrefix}-task-execution`,
        assumeRolePolicy: this.assumeRolePolicy.json,
        tags: props.tags,
      }),
      "task_execution",
    );
    pin(
      new IamRolePolicyAttachment(this, "execution-managed-policy", {
        role: this.executionRole.name,
        policyArn: `arn:${props.partition ?? "aws"}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
      }),
      "task_execution",
    );
    const readSecrets = pin(
      new DataAwsIamPolicyDocument(this, "execution-secrets-document", {
        statement: [
          { sid: "ReadDatabaseUrl", actions: ["secretsmanager:GetSecretValue"], resources: props.secretArns },
        ],
      }),
      "task_execution_secrets",
    );
    pin(
      new IamRolePolicy(this, "execution-secrets", {
        name: `${props.namePrefix}-task-execution-secrets`,
        role: this.executionRole.id,
        policy: readSecrets.json,
      }),
      "task_execution_secrets",
    );

    this.taskRole = pin(
      new IamRole(this, "task-role", {
        name: `${props.namePrefix}-task`,
        assumeRolePolicy: this.taskRoleAssumePolicy.json,
        tags: props.tags,
      }),
      "task",
    );
  }
}
