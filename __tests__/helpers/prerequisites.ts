/**
 * The outside resources that the compute stack only refers to (by variables),
 * created on the emulator through the AWS SDK as the platform's other modules
 * create them: a VPC with two private subnets, the load balancer's security group
 * and target group, the analysis queue with its dead-letter queue and redrive
 * policy, the videos bucket and the database URL secret.
 *
 * The inputs are production's (`prod.tfvars`): names, images; only the ids and
 * ARNs are the emulator's.
 */
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand } from "@aws-sdk/client-ec2";
import { CreateTargetGroupCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
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
  const [net, q, , s] = await Promise.all([network, queues, bucket, secret]);
  const secretArn = must(s.ARN, "secret ARN");
  return {
    ...net,
    ...q,
    secretArn,
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
    },
  };
}
