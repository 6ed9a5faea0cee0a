/**
 * Reading the HCL that cdktf writes for `Fn.jsonencode(...)` and tfvars files,
 * with HashiCorp's grammar (@cdktf/hcl2json), and comparing values structurally.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { diffValues } from "../tools/lib/diff/values.js";
import { decodeExpressions, decodeJsonencode, parseHcl } from "../tools/lib/stack/hcl.js";
import { LEGACY_TFVARS } from "./helpers/fixtures.js";
import { synthCompute } from "./helpers/synth.js";

type Path = (string | number)[];

/** Every string of a value that is a jsonencode expression, with where it is. */
function jsonencodeStrings(value: unknown, path: Path = []): [Path, string][] {
  if (typeof value === "string") return value.trim().startsWith("${jsonencode(") ? [[path, value]] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => jsonencodeStrings(v, [...path, i]));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => jsonencodeStrings(v, [...path, k]));
  }
  return [];
}

const at = (value: unknown, path: Path) => path.reduce((v: unknown, k) => (v as Record<string, unknown>)[k], value);

describe("cdktf's jsonencode expressions", () => {
  it("read the worker's container definitions as values, references kept as ${...}", async () => {
    const definitions = synthCompute({ workerOperations: false }).json.resource.aws_ecs_task_definition.worker
      .container_definitions as string;
    expect(await decodeJsonencode(definitions)).toEqual([
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

  it.each([
    ["the default stack", () => synthCompute().json],
    ["the legacy-parity stack", () => synthCompute({ workerOperations: false }).json],
  ])("are all decoded to structures in %s, and nothing else is touched", async (_name, synth) => {
    const json = synth();
    const found = jsonencodeStrings(json);
    expect(found.length).toBeGreaterThan(0);
    const decoded = await decodeExpressions(json);
    for (const [path] of found) expect(typeof at(decoded, path), path.join(".")).toBe("object");
    expect(jsonencodeStrings(decoded)).toEqual([]);
    // Put the expressions back: everything else is as it was.
    for (const [path, text] of found)
      (at(decoded, path.slice(0, -1)) as Record<string | number, unknown>)[path.at(-1) as string] = text;
    expect(decoded).toEqual(json);
  });

  it("read numbers, escapes, templates, calls, conditionals, operators and for expressions as Terraform's JSON syntax writes them", async () => {
    expect(
      await decodeJsonencode(
        '${jsonencode({a = 1.5, "b" = "x\\"y ${var.z}", c = [true, null, -2], d = format("%s", var.x), e = {}, "with-dash" = 1e3})}',
      ),
    ).toEqual({
      a: 1.5,
      b: 'x"y ${var.z}',
      c: [true, null, -2],
      d: '${format("%s", var.x)}',
      e: {},
      "with-dash": 1000,
    });
    expect(
      await decodeJsonencode(
        '${jsonencode({a = var.x ? "y" : "z", b = [for s in var.list : upper(s)], c = 1 + 2, d = "$${literal}"})}',
      ),
    ).toEqual({
      a: '${var.x ? "y" : "z"}',
      b: "${[for s in var.list : upper(s)]}",
      c: "${1 + 2}",
      d: "$${literal}",
    });
  });

  it("give undefined for what is not a jsonencode expression, or not HCL", async () => {
    expect(await decodeJsonencode("${var.x}")).toBeUndefined();
    expect(await decodeJsonencode('${jsonencode({"a" = })}')).toBeUndefined();
  });
});

describe("tfvars files", () => {
  it("read as values", async () => {
    const values = await parseHcl(readFileSync(LEGACY_TFVARS, "utf8"), LEGACY_TFVARS);
    expect(values).toMatchObject({
      analysis_queue_name: "cricksy-ai-analysis-jobs",
      private_subnet_ids: ["subnet-0aa11bb22cc33dd44", "subnet-0ee55ff66aa77bb88"],
    });
  });

  it("that are not HCL give one line naming the file", async () => {
    await expect(parseHcl('name = "unterminated\n', "bad.tfvars")).rejects.toThrow(/^bad\.tfvars is not valid HCL: /);
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
