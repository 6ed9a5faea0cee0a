import { describe, expect, it } from "vitest";
import { decodeJsonencode, parseHclValue } from "../tools/lib/hcl-expr.js";
import { diffValues } from "../tools/lib/structural-diff.js";
import { synthCompute } from "./helpers/synth.js";

describe("reading cdktf's jsonencode expressions", () => {
  it("reads the worker's container definitions as values, references kept opaque", () => {
    const definitions = synthCompute({ workerOperations: false }).json.resource.aws_ecs_task_definition.worker
      .container_definitions as string;
    expect(decodeJsonencode(definitions)).toEqual([
      {
        name: "worker",
        image: "${var.worker_image}",
        essential: true,
        environment: [
          { name: "AWS_REGION", value: "${var.aws_region}" },
          { name: "S3_BUCKET", value: "${var.videos_bucket_name}" },
          { name: "SQS_QUEUE_URL", value: "${local.analysis_queue_url}" },
        ],
        secrets: [{ name: "DATABASE_URL", valueFrom: "${var.database_url_secret_arn}" }],
        logConfiguration: {
          logDriver: "awslogs",
          options: {
            "awslogs-group": "${aws_cloudwatch_log_group.worker.name}",
            "awslogs-region": "${var.aws_region}",
            "awslogs-stream-prefix": "worker",
          },
        },
      },
    ]);
  });

  it("reads numbers, escapes, interpolations inside strings, calls and bare keys", () => {
    expect(
      parseHclValue('{a = 1.5, "b" = "x\\"y ${var.z}", c = [true, null, -2], d = format("%s", var.x), e = {}}'),
    ).toEqual({ a: 1.5, b: 'x"y ${var.z}', c: [true, null, -2], d: '${format("%s", var.x)}', e: {} });
  });

  it("gives undefined for what is not a jsonencode expression", () => {
    expect(decodeJsonencode("${var.x}")).toBeUndefined();
    expect(decodeJsonencode('${jsonencode({"a" = })}')).toBeUndefined();
  });
});

describe("diffValues", () => {
  it("decodes JSON policy strings and reports paths", () => {
    const before = JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["s3:GetObject"] }] });
    const after = JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"] }] });
    expect(diffValues({ policy: before }, { policy: after })).toEqual([
      { path: "policy.Statement[0].Action", old: ["s3:GetObject"], new: ["s3:GetObject", "s3:PutObject"] },
    ]);
  });

  it("reports added and removed keys and list items", () => {
    expect(diffValues({ a: 1, b: [{ x: 1 }] }, { b: [{ x: 1 }, { x: 2 }], c: "new" })).toEqual([
      { path: "a", old: 1 },
      { path: "b[1]", new: { x: 2 } },
      { path: "c", new: "new" },
    ]);
  });
});
