/**
 * The outside resources that the compute stack only refers to (by variables),
 * created on the emulator through the AWS SDK as the platform's other modules
 * create them: a VPC with two private subnets, the load balancer's security group
 * and target group, the analysis queue with its dead-letter queue and redrive
 * policy, the videos bucket and the database URL secret; and what the optional
 * inputs name, so that every conditional resource of the stack is applied too:
 * a customer managed KMS key (as if it encrypted the bucket and the queues:
 * `video_pipeline_kms_key_arns`) and on-call's queue, subscribed to the stack's
 * alarm topic (`alarm_subscriptions`, protocol sqs).
 *
 * The inputs are production's (`prod.tfvars`): names, images; only the ids and
 * ARNs are the emulator's.
 */
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand } from "@aws-sdk/client-ec2";
import { CreateTargetGroupCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateKeyCommand } from "@aws-sdk/client-kms";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { CreateSecretCommand } from "@aws-sdk/client-secrets-manager";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { AwsClients } from "./aws-clients.js";

export const REGION = "us-east-2";
export const PROJECT = "cricksy-ai";
export const QUEUE_NAME = "cricksy-ai-analysis-jobs";
export const DLQ_NAME = `${QUEUE_NAME}-dlq`;
export const BUCKET = "cricksy-ai-videos-prod";
export const WORKER_IMAGE = "123456789012.dkr.ecr.us-east-2.amazonaws.com/cricksy-ai-worker:2025-12-23.1";
export const BACKEND_IMAGE = "123456789012.dkr.ecr.us-east-2.amazonaws.com/cricksy-ai-backend:2025-12-20.1";
/** What the secret holds: a URL of the form the backend's drivers use. */
export const DATABASE_URL = "postgresql://cricksy:not-a-secret@db.internal:5432/cricksy";
/** On-call's queue: the alarm topic's one subscriber (an SQS subscription). */
export const ONCALL_QUEUE_NAME = `${PROJECT}-oncall-pages`;
/** Receives before a job goes to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 3;

export interface Prerequisites {
  vpcId: string;
  subnetIds: string[];
  albSecurityGroupId: string;
  targetGroupArn: string;
  queueUrl: string;
  dlqUrl: string;
  secretArn: string;
  /** The customer managed key that the bucket and the queues would be encrypted with. */
  kmsKeyArn: string;
  /** On-call's queue, subscribed to the alarm topic. */
  oncallQueueUrl: string;
  oncallQueueArn: string;
  /** The stack's inputs for these resources (a tfvars file in JSON). */
  tfvars: Record<string, unknown>;
}

const must = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`the emulator returned no ${what}`);
  return value;
};

export async function createPrerequisites(aws: AwsClients): Promise<Prerequisites> {
  const network = (async () => {
    const vpc = await aws.ec2.send(new CreateVpcCommand({ CidrBlock: "10.20.0.0/16" }));
    const vpcId = must(vpc.Vpc?.VpcId, "VPC id");
    const subnets = await Promise.all(
      ["a", "b"].map((az, i) =>
        aws.ec2.send(
          new CreateSubnetCommand({
            VpcId: vpcId,
            CidrBlock: `10.20.${i + 1}.0/24`,
            AvailabilityZone: `${REGION}${az}`,
          }),
        ),
      ),
    );
    const [sg, tg] = await Promise.all([
      aws.ec2.send(
        new CreateSecurityGroupCommand({ GroupName: `${PROJECT}-alb`, Description: "load balancer", VpcId: vpcId }),
      ),
      aws.elbv2.send(
        new CreateTargetGroupCommand({
          Name: `${PROJECT}-backend`,
          Protocol: "HTTP",
          Port: 8000,
          VpcId: vpcId,
          TargetType: "ip",
        }),
      ),
    ]);
    return {
      vpcId,
      subnetIds: subnets.map((s) => must(s.Subnet?.SubnetId, "subnet id")),
      albSecurityGroupId: must(sg.GroupId, "security group id"),
      targetGroupArn: must(tg.TargetGroups?.[0]?.TargetGroupArn, "target group ARN"),
    };
  })();
  const queues = (async () => {
    const dlq = await aws.sqs.send(new CreateQueueCommand({ QueueName: DLQ_NAME }));
    const dlqUrl = must(dlq.QueueUrl, "DLQ URL");
    const dlqArn = (
      await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes?.QueueArn;
    const queue = await aws.sqs.send(
      new CreateQueueCommand({
        QueueName: QUEUE_NAME,
        Attributes: {
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVE_COUNT }),
        },
      }),
    );
    return { queueUrl: must(queue.QueueUrl, "queue URL"), dlqUrl };
  })();
  const bucket = aws.s3.send(
    new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
  const secret = aws.secrets.send(
    new CreateSecretCommand({ Name: `${PROJECT}/prod/database-url`, SecretString: DATABASE_URL }),
  );
  const key = aws.kms.send(new CreateKeyCommand({ Description: `${BUCKET} and the analysis queues` }));
  const oncall = (async () => {
    const created = await aws.sqs.send(new CreateQueueCommand({ QueueName: ONCALL_QUEUE_NAME }));
    const url = must(created.QueueUrl, "on-call queue URL");
    const attributes = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
    );
    return { oncallQueueUrl: url, oncallQueueArn: must(attributes.Attributes?.QueueArn, "on-call queue ARN") };
  })();
  const [net, q, , s, k, o] = await Promise.all([network, queues, bucket, secret, key, oncall]);
  const secretArn = must(s.ARN, "secret ARN");
  const kmsKeyArn = must(k.KeyMetadata?.Arn, "KMS key ARN");
  return {
    ...net,
    ...q,
    ...o,
    secretArn,
    kmsKeyArn,
    tfvars: {
      aws_region: REGION,
      project_name: PROJECT,
      vpc_id: net.vpcId,
      private_subnet_ids: net.subnetIds,
      alb_security_group_id: net.albSecurityGroupId,
      alb_target_group_arn: net.targetGroupArn,
      backend_image: BACKEND_IMAGE,
      worker_image: WORKER_IMAGE,
      videos_bucket_name: BUCKET,
      analysis_queue_name: QUEUE_NAME,
      database_url_secret_arn: secretArn,
      video_pipeline_kms_key_arns: [kmsKeyArn],
      alarm_subscriptions: [{ protocol: "sqs", endpoint: o.oncallQueueArn }],
    },
  };
}
