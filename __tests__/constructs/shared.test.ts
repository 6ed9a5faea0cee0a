/**
 * The constructs both services share: ComputeLocals (names, tags, account,
 * queue), Cluster, TaskRoles, TasksSecurityGroup and VideoPipelineAccess.
 */
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { TerraformOutput, TerraformStack, Testing, Token } from "cdktf";
import { describe, expect, test } from "vitest";
import { Cluster } from "../../stacks/constructs/cluster.js";
import { ComputeLocals } from "../../stacks/constructs/compute-locals.js";
import { TaskRoles } from "../../stacks/constructs/task-roles.js";
import { TasksSecurityGroup, type TasksSecurityGroupProps } from "../../stacks/constructs/tasks-security-group.js";
import { VideoPipelineAccess } from "../../stacks/constructs/video-pipeline-access.js";
import { block, givenStack, QUEUE, synth } from "./testing.js";

describe("ComputeLocals", () => {
  function whenLocals(deadLetterQueueName: string) {
    // GIVEN
    const stack = new TerraformStack(Testing.app(), "test");
    // WHEN
    const locals = new ComputeLocals(stack, "locals", {
      projectName: "demo",
      environment: "staging",
      region: "eu-west-1",
      queueName: "jobs",
      deadLetterQueueName,
    });
    new TerraformOutput(stack, "queue", { value: Token.asAny(locals.queue) });
    new TerraformOutput(stack, "refs", { value: Token.asAny({ name: locals.name, account: locals.accountId }) });
    return synth(stack);
  }

  test("writes the legacy locals and reads the caller's account", () => {
    const { json, text } = whenLocals("jobs-dead");
    expect(json.locals).toEqual({
      name: "demo",
      common_tags: { Project: "demo", Environment: "staging", ManagedBy: "terraform", Module: "compute" },
      analysis_queue_arn: "arn:aws:sqs:eu-west-1:${data.aws_caller_identity.current.account_id}:jobs",
      analysis_queue_url: "https://sqs.eu-west-1.amazonaws.com/${data.aws_caller_identity.current.account_id}/jobs",
      analysis_dlq_name: '${coalesce("jobs-dead", "jobs-dlq")}',
    });
    expect(text).toHaveDataSource(DataAwsCallerIdentity);
  });

  test("hands out the locals, not copies of their values", () => {
    const { json } = whenLocals("");
    expect(json.output.queue.value).toEqual({
      name: "jobs",
      arn: "${local.analysis_queue_arn}",
      url: "${local.analysis_queue_url}",
      deadLetterQueueName: "${local.analysis_dlq_name}",
    });
    expect(json.output.refs.value).toEqual({
      name: "${local.name}",
      account: "${data.aws_caller_identity.current.account_id}",
    });
    expect(json.locals?.analysis_dlq_name).toBe('${coalesce("", "jobs-dlq")}');
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
  function whenAccess(tags?: { [k: string]: string }) {
    const { stack, roles } = givenStack();
    new VideoPipelineAccess(stack, "access", {
      namePrefix: "demo",
      role: roles.taskRole,
      bucketName: "videos",
      queue: QUEUE,
      tags,
    });
    return synth(stack).json;
  }

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
