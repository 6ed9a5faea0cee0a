import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { pin } from "../pin.js";
import type { Tags } from "../tags.js";
import type { AnalysisQueue } from "./compute-locals.js";

export interface WorkerTaskRoleProps {
  /** Prefix of the role's name (the project name). */
  readonly namePrefix: string;
  /** Trust policy: who may assume the role (ECS tasks). */
  readonly assumeRolePolicy: DataAwsIamPolicyDocument;
  /** Bucket of uploaded videos and analysis results (from outside the stack: a name). */
  readonly bucketName: string;
  /** Key prefixes of uploaded videos that the worker reads, each ending in "/". */
  readonly videoPrefixes: string[];
  /** The analysis job queue the worker consumes. */
  readonly queue: AnalysisQueue;
  /** Region of the tasks, for the task protection ARN. */
  readonly region: string;
  /** Account of the tasks, for the task protection ARN. */
  readonly accountId: string;
  /** Cluster of the tasks, for the task protection ARN. */
  readonly cluster: EcsCluster;
  /** Tags of the role. @default - none */
  readonly tags?: Tags;
}

/**
 * The worker's own task role, least privilege: `aws_iam_role.worker_task` with the
 * inline policy `aws_iam_role_policy.worker_task` written by
 * `data.aws_iam_policy_document.worker_task`. The backend keeps the shared task role.
 */
export class WorkerTaskRole extends Construct {
  /** `aws_iam_role.worker_task`. */
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: WorkerTaskRoleProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.videoPrefixes)) checkVideoPrefixes(props.videoPrefixes);
    const bucket = `arn:aws:s3:::${props.bucketName}`;
    const document = pin(
      new DataAwsIamPolicyDocument(this, "document", {
        statement: [
          {
            sid: "ConsumeAnalysisJobs",
            // ChangeMessageVisibility also covers its batch form (releasing messages at shutdown).
            actions: [
              "sqs:ReceiveMessage",
              "sqs:DeleteMessage",
              "sqs:ChangeMessageVisibility",
              "sqs:GetQueueAttributes",
            ],
            resources: [props.queue.arn],
          },
          {
            sid: "ReadUploadedVideos",
            actions: ["s3:GetObject"],
            // Objects under each upload prefix: a prefix wildcard is the narrowest S3 offers for keys not known in advance.
            resources: Fn.formatlist(`${bucket}/%s*`, [props.videoPrefixes]),
          },
          {
            sid: "WriteAnalysisResults",
            // GetObject too: the worker checks whether a job's result.json exists (HeadObject).
            actions: ["s3:PutObject", "s3:GetObject"],
            resources: [`${bucket}/analysis/*`],
          },
          {
            sid: "TellMissingKeysFromDenied",
            // Without ListBucket, S3 answers 403 instead of 404 for a missing key, and the worker
            // could not tell "no result yet" or "video missing" from "access denied". S3 has no
            // narrower grant: a prefix condition does not apply to HeadObject/GetObject.
            actions: ["s3:ListBucket"],
            resources: [bucket],
          },
          {
            sid: "ScaleInProtection",
            // Task ids are not known before the tasks run; this is the cluster's task ARN pattern.
            actions: ["ecs:UpdateTaskProtection", "ecs:GetTaskProtection"],
            resources: [`arn:aws:ecs:${props.region}:${props.accountId}:task/${props.cluster.name}/*`],
          },
        ],
      }),
      "worker_task",
    );
    this.role = pin(
      new IamRole(this, "role", {
        name: `${props.namePrefix}-worker-task`,
        description: "Task role of the video-analysis worker: the analysis queue, its S3 prefixes, task protection",
        assumeRolePolicy: props.assumeRolePolicy.json,
        tags: props.tags,
      }),
      "worker_task",
    );
    pin(
      new IamRolePolicy(this, "policy", {
        name: `${props.namePrefix}-worker-task`,
        role: this.role.id,
        policy: document.json,
      }),
      "worker_task",
    );
  }
}

/** Literal prefixes (the stack's come from a variable, which validates them at plan time). */
function checkVideoPrefixes(prefixes: string[]): void {
  if (prefixes.length === 0) {
    throw new Error('WorkerTaskRole: videoPrefixes is empty: give the key prefixes of uploads, such as ["uploads/"]');
  }
  for (const prefix of prefixes) {
    if (!Token.isUnresolved(prefix) && (!prefix.endsWith("/") || /[*?]/.test(prefix))) {
      throw new Error(
        `WorkerTaskRole: videoPrefixes has "${prefix}": give a key prefix that ends in "/" without wildcards, such as "uploads/"`,
      );
    }
  }
}
