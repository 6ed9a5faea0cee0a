/** WorkerTaskRole: the worker's least-privilege role. */
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { ref, Token } from "cdktf";
import { describe, expect, test } from "vitest";
import { WorkerTaskRole, type WorkerTaskRoleProps } from "../../stacks/constructs/worker-task-role.js";
import { ACCOUNT, block, givenStack, REGION, synth } from "./testing.js";

function whenRole(props: Partial<WorkerTaskRoleProps> = {}) {
  const { stack, cluster, roles, queue } = givenStack();
  new WorkerTaskRole(stack, "role", {
    namePrefix: "demo",
    assumeRolePolicy: roles.assumeRolePolicy,
    bucketName: "videos",
    videoPrefixes: ["uploads/", "imports/"],
    queue,
    region: REGION,
    accountId: ACCOUNT,
    cluster,
    ...props,
  });
  return synth(stack).json;
}

describe("WorkerTaskRole", () => {
  test("consumes the queue, reads the upload prefixes, writes results, lists the bucket, protects its tasks", () => {
    // WHEN
    const json = whenRole();
    // THEN
    const statements = block(json, DataAwsIamPolicyDocument, "worker_task").statement as {
      sid: string;
      actions: string[];
      resources: unknown;
    }[];
    expect(statements).toEqual([
      {
        sid: "ConsumeAnalysisJobs",
        actions: [
          "sqs:ReceiveMessage",
          "sqs:ChangeMessageVisibility",
          "sqs:DeleteMessage",
          "sqs:SendMessage",
          "sqs:GetQueueAttributes",
        ],
        resources: [`arn:aws:sqs:${REGION}:${ACCOUNT}:jobs`],
      },
      {
        sid: "MoveDeadLetters",
        actions: ["sqs:SendMessage"],
        resources: [`arn:aws:sqs:${REGION}:${ACCOUNT}:jobs-dlq`],
      },
      {
        sid: "ReadUploadedVideos",
        actions: ["s3:GetObject"],
        resources: '${formatlist("arn:aws:s3:::videos/%s*", ["uploads/", "imports/"])}',
      },
      {
        sid: "WriteAnalysisResults",
        actions: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
        resources: ["arn:aws:s3:::videos/analysis/*"],
      },
      { sid: "TellMissingKeysFromDenied", actions: ["s3:ListBucket"], resources: ["arn:aws:s3:::videos"] },
      {
        sid: "ScaleInProtection",
        actions: ["ecs:UpdateTaskProtection"],
        resources: [`arn:aws:ecs:${REGION}:${ACCOUNT}:task/\${aws_ecs_cluster.cluster.name}/*`],
      },
    ]);
    for (const { actions } of statements) for (const action of actions) expect(action).not.toContain("*");
    expect(block(json, IamRole, "worker_task")).toMatchObject({
      name: "demo-worker-task",
      assume_role_policy: "${data.aws_iam_policy_document.ecs_tasks_assume.json}",
    });
  });

  test("builds every ARN in the given partition", () => {
    // WHEN
    const json = whenRole({ partition: "aws-cn" });
    // THEN
    const resources = JSON.stringify(
      (block(json, DataAwsIamPolicyDocument, "worker_task").statement as { resources: unknown }[]).map(
        (s) => s.resources,
      ),
    );
    expect(resources).toContain("arn:aws-cn:s3:::videos/analysis/*");
    expect(resources).toContain(`arn:aws-cn:ecs:${REGION}:${ACCOUNT}:task/`);
    expect(resources.match(/arn:aws:s3|arn:aws:ecs/g)).toBeNull();
  });

  test("kmsKeyArns: a Terraform list makes a counted grant through S3 and SQS of the region; none without it", () => {
    // WHEN
    const withList = whenRole({ kmsKeyArns: Token.asList(ref("var.keys")), dnsSuffix: "amazonaws.com.cn" });
    const without = whenRole();
    // THEN
    expect(block(withList, IamRolePolicy, "worker_task_kms")).toMatchObject({
      count: "${(length(var.keys) >= 1) ? 1 : 0}",
      name: "demo-worker-task-kms",
      role: "${aws_iam_role.worker_task.id}",
    });
    expect(block(withList, DataAwsIamPolicyDocument, "worker_task_kms").statement).toEqual([
      {
        sid: "UseVideoPipelineKeys",
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: "${var.keys}",
        condition: [
          {
            test: "StringEquals",
            variable: "kms:ViaService",
            values: [`s3.${REGION}.amazonaws.com.cn`, `sqs.${REGION}.amazonaws.com.cn`],
          },
        ],
      },
    ]);
    expect(without.resource.aws_iam_role_policy?.worker_task_kms).toBeUndefined();
    expect(without.data.aws_iam_policy_document?.worker_task_kms).toBeUndefined();
  });

  test("tags the role when given, and not otherwise", () => {
    expect(block(whenRole(), IamRole, "worker_task").tags).toBeUndefined();
    expect(block(whenRole({ tags: { Team: "video" } }), IamRole, "worker_task").tags).toEqual({ Team: "video" });
  });

  test.each<[string[], RegExp]>([
    [[], /^WorkerTaskRole: videoPrefixes is empty: give the key prefixes of uploads, such as \["uploads\/"\]$/],
    [["uploads"], /videoPrefixes has "uploads": give a key prefix that ends in "\/" without wildcards/],
    [["up*/"], /videoPrefixes has "up\*\/"/],
  ])("rejects videoPrefixes %j, saying what to give", (videoPrefixes, message) => {
    expect(() => whenRole({ videoPrefixes })).toThrow(message);
  });
});
