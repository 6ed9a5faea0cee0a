import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Construct } from "constructs";
import { pin } from "../pin.js";
import type { Tags } from "../tags.js";
import type { AnalysisQueue } from "./compute-locals.js";
import { KmsKeyAccess } from "./kms-key-access.js";

export interface VideoPipelineAccessProps {
  /** Prefix of the policy's name and description (the project name). */
  readonly namePrefix: string;
  /** Role that gets the policy. */
  readonly role: IamRole;
  /** Bucket of uploaded videos and analysis results (from outside the stack: a name). */
  readonly bucketName: string;
  /** The analysis job queue. */
  readonly queue: AnalysisQueue;
  /** Partition of the bucket's ARN. @default "aws" */
  readonly partition?: string;
  /**
   * Customer managed KMS keys (key ARNs, or a Terraform list) that encrypt the bucket or
   * the queue: the role may use them through S3 and SQS (`KmsKeyAccess`,
   * `aws_iam_role_policy.task_kms`). @default - none (the legacy policy only)
   */
  readonly kmsKeyArns?: string[];
  /** Region of S3 and SQS, for the KMS grant's `kms:ViaService`; needed with `kmsKeyArns`. @default - none */
  readonly region?: string;
  /** DNS suffix of the partition's endpoints, for the KMS grant. @default "amazonaws.com" */
  readonly dnsSuffix?: string;
  /** Tags of the policy. @default - none */
  readonly tags?: Tags;
}

/**
 * What the task role may do with the video pipeline: read and write objects in
 * the videos bucket and list it, and send, receive and settle analysis jobs.
 * `data.aws_iam_policy_document.task_s3_sqs`, `aws_iam_policy.task_s3_sqs` and its
 * attachment `aws_iam_role_policy_attachment.task_s3_sqs`.
 */
export class VideoPipelineAccess extends Construct {
  /** `aws_iam_policy.task_s3_sqs`. */
  readonly policy: IamPolicy;

  constructor(scope: Construct, id: string, props: VideoPipelineAccessProps) {
    super(scope, id);
    const bucket = `arn:${props.partition ?? "aws"}:s3:::${props.bucketName}`;
    const document = pin(
      new DataAwsIamPolicyDocument(this, "document", {
        statement: [
          {
            sid: "VideoObjects",
            actions: ["s3:GetObject", "s3:PutObject"],
            resources: [`${bucket}/*`],
          },
          {
            sid: "VideoBucket",
            actions: ["s3:ListBucket"],
            resources: [bucket],
          },
          {
            sid: "AnalysisQueue",
            actions: [
              "sqs:SendMessage",
              "sqs:ReceiveMessage",
              "sqs:DeleteMessage",
              "sqs:ChangeMessageVisibility",
              "sqs:GetQueueAttributes",
              "sqs:GetQueueUrl",
            ],
            resources: [props.queue.arn],
          },
        ],
      }),
      "task_s3_sqs",
    );
    this.policy = pin(
      new IamPolicy(this, "policy", {
        name: `${props.namePrefix}-task-s3-sqs`,
        description: `Lets ${props.namePrefix} tasks read and write videos in S3 and use the analysis queue`,
        policy: document.json,
        tags: props.tags,
      }),
      "task_s3_sqs",
    );
    pin(
      new IamRolePolicyAttachment(this, "attachment", { role: props.role.name, policyArn: this.policy.arn }),
      "task_s3_sqs",
    );
    if (props.kmsKeyArns) {
      if (props.region === undefined) {
        throw new Error(
          "VideoPipelineAccess: kmsKeyArns needs region: give the region of the bucket and the queue (the keys are used through S3 and SQS there)",
        );
      }
      new KmsKeyAccess(this, "kms", {
        role: props.role,
        policyName: `${props.namePrefix}-task-kms`,
        logicalId: "task_kms",
        keyArns: props.kmsKeyArns,
        region: props.region,
        dnsSuffix: props.dnsSuffix,
      });
    }
  }
}
