/**
 * What the worker reads about its queue at start: the redrive policy, whose
 * maxReceiveCount is the number of real attempts a job gets and whose
 * dead-letter queue takes what the worker gives up on without a job to fail.
 */
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { RedriveSettings } from "./consumer.js";

export class QueueSetupError extends Error {
  override name = "QueueSetupError";
}

/**
 * The dead-letter queue's URL from its ARN, in the form of the queue's own URL
 * (same endpoint: AWS, or an emulator), so that no GetQueueUrl call (and grant) is needed.
 */
export function queueUrlFromArn(queueUrl: string, arn: string): string {
  const parts = arn.split(":");
  if (parts.length !== 6 || parts[0] !== "arn" || parts[2] !== "sqs") {
    throw new QueueSetupError(`the redrive policy's deadLetterTargetArn is not an SQS queue ARN: ${arn}`);
  }
  const [, , , region, account, name] = parts;
  const url = new URL(queueUrl);
  // sqs.<region>.amazonaws.com style hosts name the region: use the dead-letter queue's.
  url.hostname = url.hostname.replace(/^sqs\.[a-z0-9-]+\./, `sqs.${region}.`);
  url.pathname = `/${account}/${name}`;
  return url.toString();
}

/** Reads RedrivePolicy; undefined when the queue has none (attempts are then unlimited, as in SQS). */
export async function readRedrivePolicy(
  sqs: SQSClient,
  queueUrl: string,
  signal?: AbortSignal,
): Promise<RedriveSettings | undefined> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["RedrivePolicy"] }), {
    abortSignal: signal,
  });
  const raw = out.Attributes?.RedrivePolicy;
  if (!raw) return undefined;
  let policy: { maxReceiveCount?: unknown; deadLetterTargetArn?: unknown };
  try {
    policy = JSON.parse(raw);
  } catch {
    throw new QueueSetupError(`the queue's RedrivePolicy is not JSON: ${raw.slice(0, 200)}`);
  }
  const maxAttempts = Number(policy.maxReceiveCount);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || typeof policy.deadLetterTargetArn !== "string") {
    throw new QueueSetupError(
      `the queue's RedrivePolicy has no usable maxReceiveCount and deadLetterTargetArn: ${raw}`,
    );
  }
  return { maxAttempts, deadLetterQueueUrl: queueUrlFromArn(queueUrl, policy.deadLetterTargetArn) };
}
