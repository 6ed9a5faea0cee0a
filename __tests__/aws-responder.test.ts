/**
 * The loopback AWS responder of the offline plans: its wire format read back by
 * the AWS SDK for JavaScript (SQS JSON protocol) and checked against the SQS API
 * reference's error format; a real `terraform plan` with the AWS provider
 * 5.100.0 reading `data "aws_sqs_queue"` through it (a wrong name fails with
 * Terraform's error naming the queue); the recorded calls; and the queues the
 * offline harness derives from a plan's inputs.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueueTagsCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsResponder, startAwsResponder } from "../tools/lib/terraform/aws-responder.js";
import { defaultDlqName, planInputs, queuesFor, regionOf } from "../tools/lib/terraform/inputs.js";
import { LEGACY_TFVARS, STAGING_TFVARS } from "./helpers/fixtures.js";
import { type OfflinePlan, offlinePlans, planJson } from "./helpers/plan.js";
import { synthCompute } from "./helpers/synth.js";

const ACCOUNT = "210987654321";

describe("SQS on loopback, read by the AWS SDK", () => {
  let aws: AwsResponder;
  let sqs: SQSClient;
  const client = (region: string) =>
    new SQSClient({ region, endpoint: aws.url, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  beforeAll(async () => {
    aws = await startAwsResponder({
      accountId: ACCOUNT,
      region: "eu-west-1",
      queues: [
        { name: "jobs", deadLetterQueue: "jobs-dlq", maxReceiveCount: 3, tags: { team: "video" } },
        { name: "jobs-dlq" },
        { name: "orders.fifo", attributes: { VisibilityTimeout: "900" } },
      ],
    });
    sqs = client("eu-west-1");
  });
  afterAll(async () => {
    sqs?.destroy();
    await aws?.close();
  });

  it("gives a queue's URL for its name, built for the account and region", async () => {
    const out = await sqs.send(new GetQueueUrlCommand({ QueueName: "jobs" }));
    expect(out.QueueUrl).toBe(`https://sqs.eu-west-1.amazonaws.com/${ACCOUNT}/jobs`);
    expect(aws.calls.at(-1)).toEqual({
      service: "sqs",
      action: "GetQueueUrl",
      queue: "jobs",
      status: 200,
      input: { QueueName: "jobs" },
    });
  });

  it("gives the attributes asked for, the redrive policy naming the dead-letter queue's ARN", async () => {
    const url = aws.queueUrl("jobs");
    const arnOnly = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
    expect(arnOnly.Attributes).toEqual({ QueueArn: `arn:aws:sqs:eu-west-1:${ACCOUNT}:jobs` });
    const all = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }));
    expect(JSON.parse(all.Attributes?.RedrivePolicy as string)).toEqual({
      deadLetterTargetArn: `arn:aws:sqs:eu-west-1:${ACCOUNT}:jobs-dlq`,
      maxReceiveCount: 3,
    });
    expect(all.Attributes).toMatchObject({ VisibilityTimeout: "30", ApproximateNumberOfMessages: "0" });
    expect(all.Attributes).not.toHaveProperty("FifoQueue");
  });

  it("gives a FIFO queue the FIFO attributes, and the attributes configured for it", async () => {
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: aws.queueUrl("orders.fifo"), AttributeNames: ["All"] }),
    );
    expect(out.Attributes).toMatchObject({ FifoQueue: "true", VisibilityTimeout: "900" });
    expect(out.Attributes).not.toHaveProperty("RedrivePolicy");
  });

  it("lists a queue's tags", async () => {
    expect((await sqs.send(new ListQueueTagsCommand({ QueueUrl: aws.queueUrl("jobs") }))).Tags).toEqual({
      team: "video",
    });
    expect((await sqs.send(new ListQueueTagsCommand({ QueueUrl: aws.queueUrl("jobs-dlq") }))).Tags).toBeUndefined();
  });

  it.each([
    ["an unknown name", () => sqs.send(new GetQueueUrlCommand({ QueueName: "jobs-typo" }))],
    ["another owner", () => sqs.send(new GetQueueUrlCommand({ QueueName: "jobs", QueueOwnerAWSAccountId: "1" }))],
    ["an unknown URL", () => sqs.send(new ListQueueTagsCommand({ QueueUrl: aws.queueUrl("jobs-typo") }))],
    ["another region", () => client("us-east-2").send(new GetQueueUrlCommand({ QueueName: "jobs" }))],
  ])("answers %s as SQS does: QueueDoesNotExist, HTTP 400", async (_case, call) => {
    const error = (await call().catch((e: unknown) => e)) as { name: string; $metadata: { httpStatusCode: number } };
    expect(error.name).toBe("QueueDoesNotExist");
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(aws.calls.at(-1)?.status).toBe(400);
  });

  it("writes SQS's JSON error: content type, x-amzn-query-error and __type (SQS API reference)", async () => {
    const response = await fetch(aws.url, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.GetQueueUrl" },
      body: JSON.stringify({ QueueName: "nope" }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/x-amz-json-1.0");
    expect(response.headers.get("x-amzn-query-error")).toBe("AWS.SimpleQueueService.NonExistentQueue;Sender");
    expect(await response.json()).toEqual({
      __type: "com.amazonaws.sqs#QueueDoesNotExist",
      message: "The specified queue does not exist.",
    });
  });

  it("rejects an attribute name SQS does not know, and any other action", async () => {
    const bad = (await sqs
      .send(new GetQueueAttributesCommand({ QueueUrl: aws.queueUrl("jobs"), AttributeNames: ["Colour" as never] }))
      .catch((e: unknown) => e)) as Error;
    expect(bad.name).toBe("InvalidAttributeName");
    const send = (await sqs
      .send(new SendMessageCommand({ QueueUrl: aws.queueUrl("jobs"), MessageBody: "x" }))
      .catch((e: unknown) => e)) as Error;
    expect(send.message).toContain("not SendMessage");
    expect(aws.calls.at(-1)).toMatchObject({ service: "sqs", action: "SendMessage", status: 400 });
  });
});

describe("STS on loopback", () => {
  it("answers GetCallerIdentity with the account, anything else with an error; both recorded", async () => {
    const aws = await startAwsResponder({ accountId: ACCOUNT });
    try {
      const ask = (action: string) =>
        fetch(aws.url, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: `Action=${action}&Version=2011-06-15`,
        });
      const ok = await ask("GetCallerIdentity");
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain(`<Account>${ACCOUNT}</Account>`);
      expect((await ask("AssumeRole")).status).toBe(400);
      expect(aws.calls.map((c) => [c.service, c.action, c.status])).toEqual([
        ["sts", "GetCallerIdentity", 200],
        ["sts", "AssumeRole", 400],
      ]);
    } finally {
      await aws.close();
    }
  });
});

/** A configuration that looks up the analysis queue and its dead-letter queue, as the stack will. */
const LOOKUPS = `
variable "aws_region" {
  type    = string
  default = "us-east-2"
}
variable "analysis_queue_name" { type = string }
variable "analysis_dlq_name" {
  type    = string
  default = ""
}
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}
provider "aws" { region = var.aws_region }
data "aws_caller_identity" "current" {}
data "aws_sqs_queue" "queue" { name = var.analysis_queue_name }
data "aws_sqs_queue" "dlq" {
  name = var.analysis_dlq_name != "" ? var.analysis_dlq_name : "\${var.analysis_queue_name}-dlq"
}
output "queue" { value = [data.aws_sqs_queue.queue.url, data.aws_sqs_queue.queue.arn] }
output "dlq" { value = [data.aws_sqs_queue.dlq.url, data.aws_sqs_queue.dlq.arn] }
`;

describe('data "aws_sqs_queue" in a real offline plan (AWS provider 5.100.0)', () => {
  const plans = offlinePlans();
  let right: OfflinePlan;
  let wrong: OfflinePlan;
  beforeAll(async () => {
    const module = mkdtempSync(join(tmpdir(), "cricksy-lookups-"));
    writeFileSync(join(module, "main.tf"), LOOKUPS);
    [right, wrong] = await Promise.all([
      plans.plan({ module, accountId: ACCOUNT, vars: { aws_region: "eu-west-1", analysis_queue_name: "jobs" } }),
      // SQS knows the dead-letter queue under another name than the configuration looks up
      plans.plan({
        module,
        accountId: ACCOUNT,
        queues: [{ name: "jobs", deadLetterQueue: "jobs-dead-letters" }, { name: "jobs-dead-letters" }],
        vars: { analysis_queue_name: "jobs" },
      }),
    ]);
  });

  it("plans with the queues the inputs name, in their region, asking only these calls", () => {
    const { workdir, result } = right;
    const outputs = planJson(result).output_changes ?? {};
    expect(outputs.queue.after).toEqual([workdir.aws.queueUrl("jobs"), `arn:aws:sqs:eu-west-1:${ACCOUNT}:jobs`]);
    expect(outputs.dlq.after).toEqual([
      `https://sqs.eu-west-1.amazonaws.com/${ACCOUNT}/jobs-dlq`,
      workdir.aws.queueArn("jobs-dlq"),
    ]);
    const asked = workdir.aws.calls
      .map((c) => [`${c.service}:${c.action}`, c.queue, c.status].filter((x) => x !== undefined).join(" "))
      .sort();
    expect(asked).toEqual(
      [
        "sts:GetCallerIdentity 200",
        "sqs:GetQueueUrl jobs 200",
        `sqs:GetQueueAttributes ${workdir.aws.queueUrl("jobs")} 200`,
        `sqs:ListQueueTags ${workdir.aws.queueUrl("jobs")} 200`,
        "sqs:GetQueueUrl jobs-dlq 200",
        `sqs:GetQueueAttributes ${workdir.aws.queueUrl("jobs-dlq")} 200`,
        `sqs:ListQueueTags ${workdir.aws.queueUrl("jobs-dlq")} 200`,
      ].sort(),
    );
    // What the provider sends: the queue's ARN only, by URL (the JSON protocol's fields).
    const attributes = workdir.aws.calls.filter((c) => c.action === "GetQueueAttributes").map((c) => c.input);
    expect(attributes).toEqual(
      expect.arrayContaining([
        { AttributeNames: ["QueueArn"], QueueUrl: workdir.aws.queueUrl("jobs") },
        { AttributeNames: ["QueueArn"], QueueUrl: workdir.aws.queueUrl("jobs-dlq") },
      ]),
    );
    expect(attributes).toHaveLength(2);
  });

  it("fails on a wrong dead-letter queue name with Terraform's error naming the queue", () => {
    const { workdir, result } = wrong;
    expect(result.code).toBe(1);
    expect(result.json).toBeUndefined();
    expect(result.stderr).toContain("Error: reading SQS Queue (jobs-dlq) URL: couldn't find resource");
    expect(workdir.aws.calls.filter((c) => c.status === 400).map((c) => `${c.action} ${c.queue}`)).toEqual([
      "GetQueueUrl jobs-dlq",
    ]);
  });
});

describe("the queues of a plan's inputs", () => {
  it("come from the synth's defaults and the tfvars, a -var winning over both", async () => {
    const dir = synthCompute().outdir;
    const stackDir = join(dir, "stacks", "compute");
    const prod = await planInputs(stackDir, { varFiles: [LEGACY_TFVARS] });
    expect(regionOf(prod)).toBe("us-east-2");
    expect(queuesFor(prod)).toEqual([
      { name: "cricksy-ai-analysis-jobs", deadLetterQueue: "cricksy-ai-analysis-jobs-dlq" },
      { name: "cricksy-ai-analysis-jobs-dlq" },
    ]);
    const staging = await planInputs(stackDir, {
      varFiles: [STAGING_TFVARS],
      vars: { analysis_dlq_name: "dead.fifo" },
    });
    expect(regionOf(staging)).toBe("eu-west-1");
    expect(queuesFor(staging)).toEqual([
      { name: "cricksy-staging-analysis-jobs.fifo", deadLetterQueue: "dead.fifo" },
      { name: "dead.fifo" },
    ]);
  });

  it("name a FIFO queue's dead-letter queue as a FIFO queue", () => {
    expect(defaultDlqName("jobs")).toBe("jobs-dlq");
    expect(defaultDlqName("jobs.fifo")).toBe("jobs-dlq.fifo");
  });
});
