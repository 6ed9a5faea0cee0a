/**
 * Bad inputs fail `terraform plan` (offline) with a message that names the
 * variable and the fix, before anything is planned. Terraform reports every
 * failing validation of a run, so the cases run in two plans (a provider start
 * costs seconds), each message checked on its own.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { queuesFor } from "../tools/lib/terraform/inputs.js";
import type { PlanResult } from "../tools/lib/terraform/plan.js";
import type { OfflineWorkdir } from "../tools/lib/terraform/workdir.js";
import { LEGACY_TFVARS, STAGING_TFVARS } from "./helpers/fixtures.js";
import { offlinePlans } from "./helpers/plan.js";
import { synthCompute } from "./helpers/synth.js";

/** Terraform's diagnostics without the box drawing and line wrapping. */
const flat = (text: string) => text.replace(/[│╷╵]/g, " ").replace(/\s+/g, " ");

/** Inputs, and the message (or messages) each makes Terraform print. */
const CASES: [Record<string, string>, string | string[]][] = [
  [
    { worker_memory: "3000" },
    "worker_memory does not fit worker_cpu on Fargate. Memory (MiB) per CPU size: 256: 512/1024/2048; 512: 1024-4096 in steps of 1024;",
  ],
  [{ backend_cpu: "256", backend_memory: "4096" }, "backend_memory does not fit backend_cpu on Fargate."],
  [
    { worker_desired_count: "10.5" },
    [
      "worker_desired_count must be a whole number from 0 to 100.",
      "worker_desired_count must be from worker_min_count to worker_max_count (the autoscaler's bounds): give a worker_desired_count in that range.",
    ],
  ],
  [
    { log_retention_days: "10" },
    "log_retention_days must be a retention CloudWatch Logs accepts: 0, 1, 3, 5, 7, 14, 30,",
  ],
  [{ worker_ephemeral_storage_gib: "10" }, "worker_ephemeral_storage_gib must be a whole number from 21 to 200."],
  [
    { alb_target_group_arn: "cricksy-ai-backend" },
    "alb_target_group_arn must be a target group ARN: arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<16 hex digits>.",
  ],
  [
    { database_url_secret_arn: "cricksy-ai/prod/database-url" },
    "database_url_secret_arn must be a Secrets Manager secret ARN",
  ],
  [
    { analysis_queue_name: "https://sqs.us-east-2.amazonaws.com/123456789012/jobs" },
    "analysis_queue_name must be an SQS queue name (a name, not a URL or ARN)",
  ],
  [
    { alarm_sns_topic_arn: "arn:aws:sqs:us-east-2:123456789012:alerts" },
    "alarm_sns_topic_arn must be a standard SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>; CloudWatch alarms cannot notify a FIFO topic), or empty for the stack's own topic.",
  ],
  [
    { worker_video_prefixes: '["uploads/*"]' },
    'worker_video_prefixes must be a non-empty list of key prefixes ending in "/" without wildcards, such as "uploads/".',
  ],
  [{ private_subnet_ids: '["subnet-xyz"]' }, "private_subnet_ids must be a non-empty list of subnet ids"],
  [{ vpc_id: "vpc-123" }, 'vpc_id must be a VPC id such as "vpc-0a1b2c3d4e5f60718".'],
  [
    { worker_image: "cricksy-ai-worker" },
    "worker_image must be an image with a tag or digest: <repository>:<tag> or <repository>@sha256:<digest>.",
  ],
  [{ project_name: "Cricksy AI" }, "project_name must be 3-32 characters of a-z, 0-9 and -, starting with a letter"],
  [{ backend_container_port: "70000" }, "backend_container_port must be a whole number from 1 to 65535."],
  [
    { video_pipeline_kms_key_arns: '["alias/videos"]' },
    "video_pipeline_kms_key_arns must be a list of KMS key ARNs (arn:aws:kms:<region>:<account>:key/<key id>;",
  ],
  [{ environment: " prod" }, "environment must be 1 to 255 printable ASCII characters, no space at either end"],
  [
    { worker_scale_from_zero_cooldown_seconds: "120" },
    "worker_scale_from_zero_cooldown_seconds must be a whole number from 390 to 3600.",
  ],
];
/**
 * Cases that set a variable that a case above sets too, or that another validation reads:
 * Terraform skips a variable's validations when a variable they read is itself invalid.
 */
const SECOND_RUN: [Record<string, string>, string | string[]][] = [
  [
    { worker_cpu: "500", worker_memory: "1024" },
    "worker_cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384",
  ],
  [{ worker_max_count: "500" }, "worker_max_count must be a whole number from 1 to 100."],
  [
    { analysis_dlq_name: "arn:aws:sqs:us-east-2:123456789012:jobs-dlq" },
    "analysis_dlq_name must be an SQS queue name (not a URL or ARN), or empty for <analysis_queue_name>-dlq.",
  ],
];

/** Cases whose validations read variables that are invalid in the runs above. */
const THIRD_RUN: [Record<string, string>, string | string[]][] = [
  [
    { analysis_dlq_name: "jobs-dlq.fifo" },
    "analysis_dlq_name must end in .fifo exactly when analysis_queue_name does: SQS gives a FIFO queue a FIFO dead-letter queue",
  ],
  [{ worker_min_count: "5", worker_max_count: "2" }, "worker_max_count must be at least worker_min_count."],
  [
    {
      alarm_sns_topic_arn: "arn:aws:sns:us-east-2:123456789012:cricksy-oncall",
      alarm_subscriptions:
        '[{ protocol = "pager", endpoint = "x" }, { protocol = "email", endpoint = "oncall" }, { protocol = "email", endpoint = "oncall" }]',
    },
    [
      "alarm_subscriptions has a protocol SNS does not offer here: give one of email, email-json, https, sms, sqs, lambda.",
      "alarm_subscriptions has an endpoint that does not fit its protocol. Forms: email: oncall@example.com;",
      "alarm_subscriptions lists an endpoint twice: give each endpoint once.",
      "alarm_subscriptions must be empty when alarm_sns_topic_arn is set: subscribe to that topic where it is managed",
    ],
  ],
];
const RUNS = [CASES, SECOND_RUN, THIRD_RUN];

const KEY = "arn:aws:kms:us-east-2:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";

const plans = offlinePlans();
let workdir: OfflineWorkdir;
const results: PlanResult[] = [];
beforeAll(async () => {
  workdir = await plans.workdir({ configFile: synthCompute().file });
  for (const batch of RUNS) {
    results.push(await workdir.plan({ varFile: LEGACY_TFVARS, vars: Object.assign({}, ...batch.map(([v]) => v)) }));
  }
}, 180_000);

describe("variable validations", () => {
  it("fail the plan: exit 1, no plan", () => {
    for (const result of results) {
      expect(result.code).toBe(1);
      expect(result.json).toBeUndefined();
      expect(flat(result.stderr)).toContain("Error: Invalid value for variable");
    }
  });

  const all: [Record<string, string>, string, number][] = RUNS.flatMap((batch, run) =>
    batch.flatMap(([vars, messages]) =>
      [messages].flat().map((message): [Record<string, string>, string, number] => [vars, message, run]),
    ),
  );
  it.each(all)("reject %o with the message that names the fix", (_vars, message, run) => {
    expect(flat(results[run].stderr)).toContain(message);
  });

  it("accept the production inputs and a scale-to-zero setup with an alarm topic", async () => {
    const result = await workdir.plan({
      varFile: LEGACY_TFVARS,
      vars: {
        worker_min_count: "0",
        worker_max_count: "20",
        worker_cpu: "1024",
        worker_memory: "3072",
        alarm_sns_topic_arn: "arn:aws:sns:us-east-2:123456789012:cricksy-oncall",
        worker_video_prefixes: '["uploads/", "imports/"]',
        video_pipeline_kms_key_arns: JSON.stringify([KEY]),
      },
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const find = (address: string) =>
      result.json?.planned_values?.root_module.resources?.find((r) => r.address === address)?.values;
    expect(find("aws_cloudwatch_metric_alarm.worker_dead_letters")).toMatchObject({
      alarm_actions: ["arn:aws:sns:us-east-2:123456789012:cricksy-oncall"],
      dimensions: { QueueName: "cricksy-ai-analysis-jobs-dlq" },
    });
    expect(find("aws_appautoscaling_target.worker")).toMatchObject({ min_capacity: 0, max_capacity: 20 });
    // an outside topic: the stack makes no topic or key of its own, and does not warn
    const types = (result.json?.planned_values?.root_module.resources ?? []).map((r) => r.type);
    expect(types).not.toContain("aws_sns_topic");
    expect(types).not.toContain("aws_kms_key");
    expect(result.stdout).not.toContain("Check block assertion failed");
    expect(result.json?.planned_values?.outputs?.worker_alarm_topic_arn).toMatchObject({
      value: "arn:aws:sns:us-east-2:123456789012:cricksy-oncall",
    });
    // KMS keys: both task roles may use them through S3 and SQS of the region
    for (const address of ["aws_iam_role_policy.task_kms[0]", "aws_iam_role_policy.worker_task_kms[0]"]) {
      expect(JSON.parse(find(address)?.policy as string).Statement, address).toEqual([
        {
          Sid: "UseVideoPipelineKeys",
          Effect: "Allow",
          Action: ["kms:GenerateDataKey", "kms:Decrypt"],
          Resource: KEY,
          Condition: {
            StringEquals: { "kms:ViaService": ["s3.us-east-2.amazonaws.com", "sqs.us-east-2.amazonaws.com"] },
          },
        },
      ]);
    }
  });
});

/**
 * The analysis queue and its dead-letter queue are looked up in SQS (the loopback SQS of the
 * offline plans answers as AWS does): a wrong name fails the plan with Terraform's error
 * naming the queue; the dead-letter queue of a FIFO queue is looked up as a FIFO queue.
 */
describe("the queue lookups", () => {
  /** SQS knows production's queue and its dead-letter queue, and staging's FIFO pair. */
  let lookups: OfflineWorkdir;
  beforeAll(async () => {
    lookups = await plans.workdir({
      configFile: synthCompute().file,
      queues: [
        ...queuesFor({ analysis_queue_name: "cricksy-ai-analysis-jobs" }),
        ...queuesFor({ analysis_queue_name: "cricksy-staging-analysis-jobs.fifo" }),
      ],
    });
  });

  it("fail the plan on a wrong queue or dead-letter queue name, naming each", async () => {
    // WHEN the inputs name queues SQS does not know
    const calls = lookups.aws.calls.length;
    const result = await lookups.plan({
      varFile: LEGACY_TFVARS,
      vars: { analysis_queue_name: "cricksy-ai-analysis-jobz", analysis_dlq_name: "cricksy-ai-dead-letters" },
    });
    // THEN
    expect(result.code).toBe(1);
    expect(result.json).toBeUndefined();
    expect(flat(result.stderr)).toContain(
      "Error: reading SQS Queue (cricksy-ai-analysis-jobz) URL: couldn't find resource with data.aws_sqs_queue.analysis,",
    );
    expect(flat(result.stderr)).toContain(
      "Error: reading SQS Queue (cricksy-ai-dead-letters) URL: couldn't find resource with data.aws_sqs_queue.analysis_dlq,",
    );
    const failed = lookups.aws.calls.slice(calls).filter((c) => c.status === 400);
    expect(failed.map((c) => `${c.action} ${c.queue}`).sort()).toEqual([
      "GetQueueUrl cricksy-ai-analysis-jobz",
      "GetQueueUrl cricksy-ai-dead-letters",
    ]);
  });

  it("take ARNs and URLs from SQS, look a FIFO queue's dead-letter queue up as <name>-dlq.fifo, subscribe each endpoint", async () => {
    // WHEN staging's inputs (a FIFO queue in eu-west-1) with an alarm subscription
    const calls = lookups.aws.calls.length;
    const result = await lookups.plan({
      varFile: STAGING_TFVARS,
      vars: { alarm_subscriptions: '[{ protocol = "email", endpoint = "oncall@example.com" }]' },
    });
    // THEN
    expect(result.stderr).toBe("");
    const values = Object.fromEntries(
      (result.json?.planned_values?.root_module.resources ?? []).map((r) => [r.address, r.values]),
    );
    expect(values["aws_cloudwatch_metric_alarm.worker_dead_letters"]).toMatchObject({
      dimensions: { QueueName: "cricksy-staging-analysis-jobs-dlq.fifo" },
    });
    // what the plan read from SQS (data sources are read at plan time)
    const read = (
      result.json as unknown as {
        prior_state: { values: { root_module: { resources: { address: string; values: Record<string, unknown> }[] } } };
      }
    ).prior_state.values.root_module.resources;
    const lookedUp = Object.fromEntries(read.map((r) => [r.address, r.values]));
    expect(lookedUp["data.aws_sqs_queue.analysis"]).toMatchObject({
      arn: lookups.aws.queueArn("cricksy-staging-analysis-jobs.fifo"),
      url: lookups.aws.queueUrl("cricksy-staging-analysis-jobs.fifo"),
    });
    expect(lookedUp["data.aws_sqs_queue.analysis_dlq"]).toMatchObject({
      name: "cricksy-staging-analysis-jobs-dlq.fifo",
      arn: lookups.aws.queueArn("cricksy-staging-analysis-jobs-dlq.fifo"),
    });
    const [container] = JSON.parse(values["aws_ecs_task_definition.worker"].container_definitions as string) as {
      environment: { name: string; value: string }[];
    }[];
    expect(container.environment).toContainEqual({
      name: "SQS_QUEUE_URL",
      value: lookups.aws.queueUrl("cricksy-staging-analysis-jobs.fifo"),
    });
    const asked = lookups.aws.calls.slice(calls).filter((c) => c.action === "GetQueueUrl");
    expect(asked.map((c) => c.queue).sort()).toEqual([
      "cricksy-staging-analysis-jobs-dlq.fifo",
      "cricksy-staging-analysis-jobs.fifo",
    ]);
    // the stack's own topic (no outside one), and the subscription keyed by its endpoint
    expect(values['aws_sns_topic_subscription.worker_alarms["oncall@example.com"]']).toMatchObject({
      protocol: "email",
      endpoint: "oncall@example.com",
    });
    expect(values["aws_sns_topic.worker_alarms[0]"]).toMatchObject({ name: "cricksy-staging-worker-alarms" });
    expect(result.stdout).not.toContain("Check block assertion failed");
  });
});
