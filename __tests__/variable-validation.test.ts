/**
 * Bad inputs fail `terraform plan` (offline) with a message that names the
 * variable and the fix, before anything is planned. Terraform reports every
 * failing validation of a run, so the cases run in two plans (a provider start
 * costs seconds), each message checked on its own.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResult } from "../tools/lib/terraform/plan.js";
import type { OfflineWorkdir } from "../tools/lib/terraform/workdir.js";
import { LEGACY_TFVARS } from "./helpers/fixtures.js";
import { offlinePlans } from "./helpers/plan.js";
import { synthCompute } from "./helpers/synth.js";

/** Terraform's diagnostics without the box drawing and line wrapping. */
const flat = (text: string) => text.replace(/[│╷╵]/g, " ").replace(/\s+/g, " ");

const CASES: [Record<string, string>, string][] = [
  [
    { worker_memory: "3000" },
    "worker_memory does not fit worker_cpu on Fargate. Memory (MiB) per CPU size: 256: 512/1024/2048; 512: 1024-4096 in steps of 1024;",
  ],
  [{ backend_cpu: "256", backend_memory: "4096" }, "backend_memory does not fit backend_cpu on Fargate."],
  [{ worker_min_count: "5", worker_max_count: "2" }, "worker_max_count must be at least worker_min_count."],
  [{ worker_desired_count: "1.5" }, "worker_desired_count must be a whole number from 0 to 100."],
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
    { analysis_dlq_name: "arn:aws:sqs:us-east-2:123456789012:jobs-dlq" },
    "analysis_dlq_name must be an SQS queue name (not a URL or ARN), or empty for <analysis_queue_name>-dlq.",
  ],
  [
    { alarm_sns_topic_arn: "arn:aws:sqs:us-east-2:123456789012:alerts" },
    "alarm_sns_topic_arn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>), or empty for no alarm actions.",
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
];
/** Cases that set a variable that a case above sets too. */
const SECOND_RUN: [Record<string, string>, string][] = [
  [
    { worker_cpu: "500", worker_memory: "1024" },
    "worker_cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384",
  ],
  [{ worker_max_count: "500" }, "worker_max_count must be a whole number from 1 to 100."],
];

const plans = offlinePlans();
let workdir: OfflineWorkdir;
const results: PlanResult[] = [];
beforeAll(async () => {
  workdir = await plans.workdir({ configFile: synthCompute().file });
  for (const batch of [CASES, SECOND_RUN]) {
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

  const all: [Record<string, string>, string, number][] = [
    ...CASES.map(([vars, message]): [Record<string, string>, string, number] => [vars, message, 0]),
    ...SECOND_RUN.map(([vars, message]): [Record<string, string>, string, number] => [vars, message, 1]),
  ];
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
  });
});
