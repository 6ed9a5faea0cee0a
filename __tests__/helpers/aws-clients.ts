/**
 * AWS SDK for JavaScript clients aimed at an emulator's endpoint (moto on
 * loopback) with dummy credentials: what the apply tests use to create the
 * stack's outside prerequisites and to look at what Terraform made or left.
 */
import { ApplicationAutoScalingClient } from "@aws-sdk/client-application-auto-scaling";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ECSClient } from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { IAMClient } from "@aws-sdk/client-iam";
import { KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { AwsQueryProtocol } from "@aws-sdk/core/protocols";

/** Dummy credentials: moto accepts any, and no real ones may reach a test. */
export const DUMMY_CREDENTIALS = { accessKeyId: "moto-test", secretAccessKey: "moto-test" };

export function awsClients(endpoint: string, region: string) {
  const config = { endpoint, region, credentials: DUMMY_CREDENTIALS, maxAttempts: 2 };
  return {
    appAutoScaling: new ApplicationAutoScalingClient(config),
    // The SDK speaks CloudWatch's JSON protocol, which moto 5.2.5 does not ("Unsupported protocol [json]
    // for service cloudwatch"); CloudWatch still accepts the query protocol, which Terraform's provider uses.
    cloudWatch: new CloudWatchClient({ ...config, protocol: AwsQueryProtocol }),
    logs: new CloudWatchLogsClient(config),
    ec2: new EC2Client(config),
    ecs: new ECSClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    iam: new IAMClient(config),
    kms: new KMSClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    secrets: new SecretsManagerClient(config),
    sns: new SNSClient(config),
    sqs: new SQSClient(config),
  };
}

export type AwsClients = ReturnType<typeof awsClients>;
