import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { pin } from "../pin.js";
import type { Tags } from "../tags.js";
import type { AnalysisQueue } from "./compute-locals.js";
import { KmsKeyAccess } from "./kms-key-access.js";

export interface WorkerTaskRoleProps {
  /** Prefix of the role's name (the project name). */
  readonly namePrefix: string;
  /** Trust policy: who may assume the role (ECS tasks of this account and region: `TaskRoles.taskRoleAssumePolicy`). */
  readonly assumeRolePolicy: DataAwsIamPolicyDocument;
  /** Bucket of uploaded videos and analysis results (from outside the stack: a name). */
  readonly bucketName: string;
  /** Key prefixes of uploaded videos that the worker reads, each ending in "/". */
  readonly videoPrefixes: string[];
  /** The analysis job queue the worker consumes, and its dead-letter queue. */
  readonly queue: AnalysisQueue;
  /** Region of the tasks, for the task protection ARN. */
  readonly region: string;
  /** Account of the tasks, for the task protection ARN. */
  readonly accountId: string;
  /** Cluster of the tasks, for the task protection ARN. */
  readonly cluster: EcsCluster;
  /** Partition of the ARNs. @default "aws" */
  readonly partition?: string;
  /**
   * Customer managed KMS keys (key ARNs, or a Terraform list) that encrypt the bucket, the
   * queue or its dead-letter queue: the role may use them through S3 and SQS
   * (`KmsKeyAccess`, `aws_iam_role_policy.worker_task_kms`). @default - none
   */
  readonly kmsKeyArns?: string[];
  /** DNS suffix of the partition's endpoints, for the KMS grant's `kms:ViaService`. @default "amazonaws.com" */
  readonly dnsSuffix?: string;
  /** Tags of the role. @default - none */
  readonly tags?: Tags;
}

/**
 * The worker's own task role, least privilege: `aws_iam_role.worker_task` with the
 * inline policy `aws_iam_role_policy.worker_task` written by
 * `data.aws_iam_policy_document.worker_task`. It grants exactly the calls the worker
 * makes (worker-src/src: queue.ts, consumer.ts, lease.ts, storage.ts, protection.ts).
 * The backend keeps the shared task role.
 */
export class WorkerTaskRole extends Construct {
  /** `aws_iam_role.worker_task`. */
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: WorkerTaskRoleProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.videoPrefixes)) checkVideoPrefixes(props.videoPrefixes);
    const partition = props.partition ?? "aws";
    const bucket = `arn:${partition}:s3:::${props.bucketName}`;
    const document = pin(
      new DataAwsIamPolicyDocument(this, "document", {
        statement: [
          {
            sid: "ConsumeAnalysisJobs",
            // Receive, heartbeat (ChangeMessageVisibility), delete; SendMessage gives a job back at
            // shutdown as a new copy (requeue); GetQueueAttributes reads the RedrivePolicy at start.
            actions: [
              "sqs:ReceiveMessage",
              "sqs:ChangeMessageVisibility",
              "sqs:DeleteMessage",
              "sqs:SendMessage",
              "sqs:GetQueueAttributes",
            ],
            resources: [props.queue.arn],
          },
          {
            sid: "MoveDeadLetters",
            // What the worker gives up on without a job to fail, it moves to the dead-letter queue itself.
            actions: ["sqs:SendMessage"],
            resources: [props.queue.deadLetterQueueArn],
          },
          {
            sid: "ReadUploadedVideos",
            actions: ["s3:GetObject"],
            // Objects under each upload prefix: a prefix wildcard is the narrowest S3 offers for keys not known in advance.
            resources: Fn.formatlist(`${bucket}/%s*`, [props.videoPrefixes]),
          },
          {
            sid: "WriteAnalysisResults",
            // PutObject: outcome.json (conditional), result.json or error.json, thumbnails; GetObject reads
            // outcome.json; DeleteObject removes a losing delivery's thumbnails.
            actions: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
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
            // The worker PUTs its protection through the ECS agent (UpdateTaskProtection); it never GETs it.
            // Task ids are not known before the tasks run; this is the cluster's task ARN pattern.
            actions: ["ecs:UpdateTaskProtection"],
            resources: [`arn:${partition}:ecs:${props.region}:${props.accountId}:task/${props.cluster.name}/*`],
          },
        ],
      }),
      "worker_task",
    );
    this.role = pin(
      new IamRole(this, "role", {
        name: `${props.namePrefix}-worker-task`,
        description:
          "Task role of the video-analysis worker: the analysis queue and its dead-letter queue, its S3 prefixes, task protection",
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
    if (props.kmsKeyArns) {
      new KmsKeyAccess(this, "kms", {
        role: this.role,
        policyName: `${props.namePrefix}-worker-task-kms`,
        logicalId: "worker_task_kms",
        keyArns: props.kmsKeyArns,
        region: props.region,
        dnsSuffix: props.dnsSuffix,
      });
    }
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
