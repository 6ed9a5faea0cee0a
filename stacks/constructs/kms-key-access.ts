import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Fn, Op, Token } from "cdktf";
import { Construct } from "constructs";
import { pin } from "../pin.js";

export interface KmsKeyAccessProps {
  /** The role that gets the grant. */
  readonly role: IamRole;
  /** Name of the inline policy. */
  readonly policyName: string;
  /** Terraform name of the policy and its document (`aws_iam_role_policy.<logicalId>`). */
  readonly logicalId: string;
  /**
   * Customer managed KMS keys (key ARNs) that encrypt what the role reads and writes,
   * or a Terraform list of them (`var.video_pipeline_kms_key_arns`); empty: no policy.
   */
  readonly keyArns: string[];
  /** Region of the services that use the keys on the role's behalf. */
  readonly region: string;
  /** DNS suffix of the partition's endpoints (`amazonaws.com`). @default "amazonaws.com" */
  readonly dnsSuffix?: string;
  /**
   * The services that may use the keys for the role (`kms:ViaService`), by endpoint prefix.
   * @default ["s3", "sqs"]
   */
  readonly viaServices?: readonly string[];
}

/**
 * Use of customer managed KMS keys through S3 and SQS: `kms:Decrypt` (reading objects,
 * receiving messages) and `kms:GenerateDataKey` (writing objects, sending messages),
 * on the given keys only, and only through those services in this region
 * (`kms:ViaService`). Neither S3 nor SQS documents a narrower set: a producer of an
 * encrypted queue needs both, a consumer `kms:Decrypt`
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
 *
 * `data.aws_iam_policy_document.<logicalId>` and `aws_iam_role_policy.<logicalId>`; for a
 * Terraform list the policy has `count` (none when the list is empty).
 */
export class KmsKeyAccess extends Construct {
  /** The inline policy, when this construct decides in TypeScript that there is one. @default - none */
  readonly policy?: IamRolePolicy;

  constructor(scope: Construct, id: string, props: KmsKeyAccessProps) {
    super(scope, id);
    const literal = !Token.isUnresolved(props.keyArns);
    if (literal) {
      for (const arn of props.keyArns) {
        if (!Token.isUnresolved(arn) && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[A-Za-z0-9-]+$/.test(arn)) {
          throw new Error(
            `KmsKeyAccess: keyArns has "${arn}": give a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>), not an alias or id`,
          );
        }
      }
      if (props.keyArns.length === 0) return;
    }
    const suffix = props.dnsSuffix ?? "amazonaws.com";
    const document = pin(
      new DataAwsIamPolicyDocument(this, "document", {
        statement: [
          {
            sid: "UseVideoPipelineKeys",
            actions: ["kms:Decrypt", "kms:GenerateDataKey"],
            resources: props.keyArns,
            condition: [
              {
                test: "StringEquals",
                variable: "kms:ViaService",
                values: (props.viaServices ?? ["s3", "sqs"]).map((service) => `${service}.${props.region}.${suffix}`),
              },
            ],
          },
        ],
      }),
      props.logicalId,
    );
    const policy = pin(
      new IamRolePolicy(this, "policy", {
        count: literal ? undefined : Token.asNumber(Fn.conditional(Op.gte(Fn.lengthOf(props.keyArns), 1), 1, 0)),
        name: props.policyName,
        role: props.role.id,
        policy: document.json,
      }),
      props.logicalId,
    );
    if (literal) this.policy = policy;
  }
}
