/**
 * The constructs both services share: ComputeLocals (names, tags, account,
 * queue), Cluster, TaskRoles, TasksSecurityGroup and VideoPipelineAccess.
 */
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsSqsQueue } from "@cdktf/provider-aws/lib/data-aws-sqs-queue";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { TerraformOutput, TerraformStack, Testing, Token } from "cdktf";
import { describe, expect, test } from "vitest";
import { Cluster } from "../../stacks/constructs/cluster.js";
import { ComputeLocals } from "../../stacks/constructs/compute-locals.js";
import { TaskRoles } from "../../stacks/constructs/task-roles.js";
import { TasksSecurityGroup, type TasksSecurityGroupProps } from "../../stacks/constructs/tasks-security-group.js";
import { VideoPipelineAccess, type VideoPipelineAccessProps } from "../../stacks/constructs/video-pipeline-access.js";
import { block, givenStack, QUEUE, synth } from "./testing.js";

describe("ComputeLocals", () => {
  function whenLocals(deadLetterQueueName: string, props: { legacyParity?: boolean; queueName?: string } = {}) {
    // GIVEN
    const stack = new TerraformStack(Testing.app(), "test");
    // WHEN
    const locals = new ComputeLocals(stack, "locals", {
      projectName: "demo",
      environment: "staging",
      region: "eu-west-1",
      queueName: props.queueName ?? "jobs",
      deadLetterQueueName,
      legacyParity: props.legacyParity,
    });
    new TerraformOutput(stack, "queue", { value: Token.asAny(locals.queue) });
    new TerraformOutput(stack, "refs", {
      value: Token.asAny({
        name: locals.name,
        account: locals.accountId,
        partition: locals.partition,
        dnsSuffix: locals.dnsSuffix,
      }),
    });
    return synth(stack);
  }

  test("by default looks the queue and its dead-letter queue up in SQS; the locals read them", () => {
    const { json, text } = whenLocals("jobs-dead");
    expect(json.locals).toEqual({
      name: "demo",
      common_tags: { Project: "demo", Environment: "staging", ManagedBy: "terraform", Module: "compute" },
      analysis_queue_arn: "${data.aws_sqs_queue.analysis.arn}",
      analysis_queue_url: "${data.aws_sqs_queue.analysis.url}",
      analysis_dlq_name: "${data.aws_sqs_queue.analysis_dlq.name}",
    });
    expect(block(json, DataAwsSqsQueue, "analysis")).toMatchObject({ name: "jobs" });
    expect(block(json, DataAwsSqsQueue, "analysis_dlq").name).toBe(
      '${coalesce("jobs-dead", endswith("jobs", ".fifo") ? format("%s-dlq.fifo", trimsuffix("jobs", ".fifo")) : format("%s-dlq", "jobs"))}',
    );
    expect(text).toHaveDataSource(DataAwsCallerIdentity);
    expect(text).toHaveDataSource(DataAwsPartition);
    expect(json.output.queue.value).toEqual({
      name: "jobs",
      arn: "${local.analysis_queue_arn}",
      url: "${local.analysis_queue_url}",
      deadLetterQueueName: "${local.analysis_dlq_name}",
      deadLetterQueueArn: "${data.aws_sqs_queue.analysis_dlq.arn}",
    });
    expect(json.output.refs.value).toEqual({
      name: "${local.name}",
      account: "${data.aws_caller_identity.current.account_id}",
      partition: "${data.aws_partition.current.partition}",
      dnsSuffix: "${data.aws_partition.current.dns_suffix}",
    });
  });

  test("legacyParity: the legacy locals built from region, account and name, partition aws, no lookups", () => {
    const { json } = whenLocals("jobs-dead", { legacyParity: true });
    expect(json.locals).toEqual({
      name: "demo",
      common_tags: { Project: "demo", Environment: "staging", ManagedBy: "terraform", Module: "compute" },
      analysis_queue_arn: "arn:aws:sqs:eu-west-1:${data.aws_caller_identity.current.account_id}:jobs",
      analysis_queue_url: "https://sqs.eu-west-1.amazonaws.com/${data.aws_caller_identity.current.account_id}/jobs",
      analysis_dlq_name: '${coalesce("jobs-dead", "jobs-dlq")}',
    });
    expect(Object.keys(json.data)).toEqual(["aws_caller_identity"]);
    expect(json.output.refs.value).toMatchObject({ partition: "aws", dnsSuffix: "amazonaws.com" });
    expect(json.output.queue.value).toMatchObject({
      deadLetterQueueArn:
        "arn:aws:sqs:eu-west-1:${data.aws_caller_identity.current.account_id}:${local.analysis_dlq_name}",
    });
  });
});

describe("TaskRoles' trust", () => {
  test("trustedSource: the task role trusts ECS tasks of this account and region only; the execution role stays plain", () => {
    // GIVEN
    const stack = new TerraformStack(Testing.app(), "test");
    // WHEN
    const roles = new TaskRoles(stack, "roles", {
      namePrefix: "demo",
      secretArns: ["arn:aws:secretsmanager:eu-west-1:210987654321:secret:db"],
      trustedSource: { accountId: "210987654321", region: "eu-west-1", partition: "aws" },
    });
    const { json } = synth(stack);
    // THEN
    expect(block(json, DataAwsIamPolicyDocument, "ecs_task_role_assume").statement).toEqual([
      {
        actions: ["sts:AssumeRole"],
        principals: [{ identifiers: ["ecs-tasks.amazonaws.com"], type: "Service" }],
        condition: [
          { test: "StringEquals", variable: "aws:SourceAccount", values: ["210987654321"] },
          { test: "ArnLike", variable: "aws:SourceArn", values: ["arn:aws:ecs:eu-west-1:210987654321:*"] },
        ],
      },
    ]);
    expect(block(json, IamRole, "task").assume_role_policy).toBe(
      "${data.aws_iam_policy_document.ecs_task_role_assume.json}",
    );
    expect(block(json, IamRole, "task_execution").assume_role_policy).toBe(
      "${data.aws_iam_policy_document.ecs_tasks_assume.json}",
    );
    expect(roles.taskRoleAssumePolicy.friendlyUniqueId).toBe("ecs_task_role_assume");
  });

  test("without trustedSource both roles share the plain trust policy, and the managed policy's ARN takes the partition", () => {
    const stack = new TerraformStack(Testing.app(), "test");
    const roles = new TaskRoles(stack, "roles", { namePrefix: "demo", secretArns: ["arn:x"], partition: "aws-cn" });
    const { json } = synth(stack);
    expect(roles.taskRoleAssumePolicy).toBe(roles.assumeRolePolicy);
    expect(json.data.aws_iam_policy_document?.ecs_task_role_assume).toBeUndefined();
    expect(block(json, IamRolePolicyAttachment, "task_execution").policy_arn).toBe(
      "arn:aws-cn:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    );
  });
});

describe("Cluster", () => {
  function whenCluster(props: { containerInsights?: boolean; tags?: { [k: string]: string } }) {
    const stack = new TerraformStack(Testing.app(), "test");
    new Cluster(stack, "cluster", { name: "demo-cluster", ...props });
    return block(synth(stack).json, EcsCluster, "main");
  }

  test("has Container Insights on by default, off when asked, and tags when given", () => {
    expect(whenCluster({})).toMatchObject({
      name: "demo-cluster",
      setting: [{ name: "containerInsights", value: "enabled" }],
    });
    expect(whenCluster({}).tags).toBeUndefined();
    expect(whenCluster({ containerInsights: false }).setting).toEqual([
      { name: "containerInsights", value: "disabled" },
    ]);
    expect(whenCluster({ tags: { Team: "video" } }).tags).toEqual({ Team: "video" });
  });
});

describe("TaskRoles", () => {
  test("an execution role with ECS's policy and read access to the secrets, a task role, both trusted by ECS tasks", () => {
    // GIVEN / WHEN (givenStack makes TaskRoles with one secret)
    const { json, text } = synth(givenStack().stack);
    // THEN
    expect(block(json, DataAwsIamPolicyDocument, "ecs_tasks_assume").statement).toEqual([
      { actions: ["sts:AssumeRole"], principals: [{ identifiers: ["ecs-tasks.amazonaws.com"], type: "Service" }] },
    ]);
    for (const [name, roleName] of [
      ["task_execution", "demo-task-execution"],
      ["task", "demo-task"],
    ]) {
      expect(block(json, IamRole, name)).toMatchObject({
        name: roleName,
        assume_role_policy: "${data.aws_iam_policy_document.ecs_tasks_assume.json}",
      });
    }
    expect(text).toHaveResourceWithProperties(IamRolePolicyAttachment, {
      policy_arn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    });
    expect(block(json, DataAwsIamPolicyDocument, "task_execution_secrets").statement).toEqual([
      {
        sid: "ReadDatabaseUrl",
        actions: ["secretsmanager:GetSecretValue"],
        resources: ["arn:aws:secretsmanager:us-east-2:123456789012:secret:db"],
      },
    ]);
  });

  test("tags both roles when given", () => {
    const stack = new TerraformStack(Testing.app(), "test");
    new TaskRoles(stack, "roles", { namePrefix: "demo", secretArns: ["arn:x"], tags: { Team: "video" } });
    const { json } = synth(stack);
    expect([block(json, IamRole, "task").tags, block(json, IamRole, "task_execution").tags]).toEqual([
      { Team: "video" },
      { Team: "video" },
    ]);
  });

  test("rejects an empty secretArns, saying what to give", () => {
    const stack = new TerraformStack(Testing.app(), "test");
    expect(() => new TaskRoles(stack, "roles", { namePrefix: "demo", secretArns: [] })).toThrow(
      /^TaskRoles: secretArns is empty: give the ARN of each secret the containers get/,
    );
  });
});

describe("TasksSecurityGroup", () => {
  function whenGroup(props: Partial<TasksSecurityGroupProps> = {}) {
    const stack = new TerraformStack(Testing.app(), "test");
    new TasksSecurityGroup(stack, "group", {
      namePrefix: "demo",
      vpcId: "vpc-0a1b2c3d4e5f60718",
      loadBalancerSecurityGroupId: "sg-0123456789abcdef0",
      loadBalancerPort: 8000,
      ...props,
    });
    return block(synth(stack).json, SecurityGroup, "ecs_tasks");
  }

  test("lets only the load balancer in, on its port, and everything out", () => {
    const group = whenGroup();
    expect(group).toMatchObject({ name: "demo-ecs-tasks", vpc_id: "vpc-0a1b2c3d4e5f60718" });
    expect(group.ingress).toEqual([
      expect.objectContaining({
        from_port: 8000,
        to_port: 8000,
        protocol: "tcp",
        security_groups: ["sg-0123456789abcdef0"],
        cidr_blocks: null,
      }),
    ]);
    expect(group.egress).toEqual([
      expect.objectContaining({ from_port: 0, to_port: 0, protocol: "-1", cidr_blocks: ["0.0.0.0/0"] }),
    ]);
    expect(group.tags).toBeUndefined();
    expect(whenGroup({ tags: { Team: "video" } }).tags).toEqual({ Team: "video" });
  });

  test.each([0, 70000, 80.5])("rejects loadBalancerPort %s, saying what to give", (port) => {
    expect(() => whenGroup({ loadBalancerPort: port })).toThrow(
      `TasksSecurityGroup: loadBalancerPort is ${port}: give the container's TCP port, 1 to 65535`,
    );
  });
});

describe("VideoPipelineAccess", () => {
  function whenAccess(tags?: { [k: string]: string }, props: Partial<VideoPipelineAccessProps> = {}) {
    const { stack, roles } = givenStack();
    new VideoPipelineAccess(stack, "access", {
      namePrefix: "demo",
      role: roles.taskRole,
      bucketName: "videos",
      queue: QUEUE,
      tags,
      ...props,
    });
    return synth(stack).json;
  }

  test("kmsKeyArns: the task role may use the keys through S3 and SQS of the region; without them no policy", () => {
    const key = "arn:aws:kms:us-east-2:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    const json = whenAccess(undefined, { kmsKeyArns: [key], region: "us-east-2", partition: "aws" });
    expect(block(json, IamRolePolicy, "task_kms")).toMatchObject({
      name: "demo-task-kms",
      role: "${aws_iam_role.task.id}",
      policy: "${data.aws_iam_policy_document.task_kms.json}",
    });
    expect(block(json, DataAwsIamPolicyDocument, "task_kms").statement).toEqual([
      {
        sid: "UseVideoPipelineKeys",
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: [key],
        condition: [
          {
            test: "StringEquals",
            variable: "kms:ViaService",
            values: ["s3.us-east-2.amazonaws.com", "sqs.us-east-2.amazonaws.com"],
          },
        ],
      },
    ]);
    expect(
      whenAccess(undefined, { kmsKeyArns: [], region: "us-east-2" }).resource.aws_iam_role_policy?.task_kms,
    ).toBeUndefined();
    expect(whenAccess().resource.aws_iam_role_policy?.task_kms).toBeUndefined();
  });

  test("rejects kmsKeyArns without a region, saying what to give", () => {
    expect(() => whenAccess(undefined, { kmsKeyArns: ["arn:aws:kms:us-east-2:123456789012:key/abc"] })).toThrow(
      /^VideoPipelineAccess: kmsKeyArns needs region: give the region of the bucket and the queue/,
    );
  });

  test("lets the role use the bucket's objects, list it, and use the queue", () => {
    const json = whenAccess();
    const statements = block(json, DataAwsIamPolicyDocument, "task_s3_sqs").statement as {
      sid: string;
      resources: string[];
    }[];
    expect(statements.map(({ sid, resources }) => ({ sid, resources }))).toEqual([
      { sid: "VideoObjects", resources: ["arn:aws:s3:::videos/*"] },
      { sid: "VideoBucket", resources: ["arn:aws:s3:::videos"] },
      { sid: "AnalysisQueue", resources: [QUEUE.arn] },
    ]);
    expect(block(json, IamPolicy, "task_s3_sqs")).toMatchObject({
      name: "demo-task-s3-sqs",
      policy: "${data.aws_iam_policy_document.task_s3_sqs.json}",
    });
    expect(block(json, IamRolePolicyAttachment, "task_s3_sqs")).toMatchObject({
      role: "${aws_iam_role.task.name}",
      policy_arn: "${aws_iam_policy.task_s3_sqs.arn}",
    });
    expect(block(json, IamPolicy, "task_s3_sqs").tags).toBeUndefined();
    expect(block(whenAccess({ Team: "video" }), IamPolicy, "task_s3_sqs").tags).toEqual({ Team: "video" });
  });
});
