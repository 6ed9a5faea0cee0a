/** WorkerTaskRole: the worker's least-privilege role. */
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
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
        actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
        resources: [`arn:aws:sqs:${REGION}:${ACCOUNT}:jobs`],
      },
      {
        sid: "ReadUploadedVideos",
        actions: ["s3:GetObject"],
        resources: '${formatlist("arn:aws:s3:::videos/%s*", ["uploads/", "imports/"])}',
      },
      {
        sid: "WriteAnalysisResults",
        actions: ["s3:PutObject", "s3:GetObject"],
        resources: ["arn:aws:s3:::videos/analysis/*"],
      },
      { sid: "TellMissingKeysFromDenied", actions: ["s3:ListBucket"], resources: ["arn:aws:s3:::videos"] },
      {
        sid: "ScaleInProtection",
        actions: ["ecs:UpdateTaskProtection", "ecs:GetTaskProtection"],
        resources: [`arn:aws:ecs:${REGION}:${ACCOUNT}:task/\${aws_ecs_cluster.cluster.name}/*`],
      },
    ]);
    for (const { actions } of statements) for (const action of actions) expect(action).not.toContain("*");
    expect(block(json, IamRole, "worker_task")).toMatchObject({
      name: "demo-worker-task",
      assume_role_policy: "${data.aws_iam_policy_document.ecs_tasks_assume.json}",
    });
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
