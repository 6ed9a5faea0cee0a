/**
 * synth-and-diff end to end, through the command, on variants of the real stack.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bodyLines, runTool } from "./helpers/cli.js";
import { cloneWorkingTree, git } from "./helpers/clone.js";
import { synthCompute } from "./helpers/synth.js";
import { stackVariants, withWorkerContainer } from "./helpers/variants.js";

let v: ReturnType<typeof stackVariants>;
beforeAll(() => {
  v = stackVariants();
});
const diff = (base: string, head: string, ...args: string[]) => runTool("diff", [base, head, ...args]);

/** A copy of a synth whose cluster block is null. */
function withNullBlock(file: string): string {
  const json = JSON.parse(readFileSync(file, "utf8"));
  json.resource.aws_ecs_cluster.main = null;
  const copy = join(mkdtempSync(join(tmpdir(), "cricksy-bad-")), "cdk.tf.json");
  writeFileSync(copy, JSON.stringify(json));
  return copy;
}

describe("no change", () => {
  it("says so and exits 0, for files and cdktf.out folders alike", async () => {
    const again = synthCompute();
    const result = await diff(v.base.outdir, again.outdir);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `Stack diff: ${v.base.outdir} → ${again.outdir}\n\nNo changes: both synthesize the same infrastructure.\n`,
    );
    expect((await diff(v.base.file, again.file, "--format", "json")).code).toBe(0);
  });
});

describe("a removed resource", () => {
  it("lists the destroy and the IAM attachment it takes away; exit 2", async () => {
    const result = await diff(v.base.file, v.removed.file);
    expect(result.code).toBe(2);
    expect(bodyLines(result.stdout)).toEqual([
      "",
      "Resources",
      "- aws_iam_role_policy_attachment.task_s3_sqs",
      "",
      "Security: IAM policy attachments",
      "- ${aws_iam_policy.task_s3_sqs.arn} to ${aws_iam_role.task.name}  [aws_iam_role_policy_attachment.task_s3_sqs]",
      "",
      "Summary: 0 to create, 0 to update, 1 to destroy; 1 security change",
    ]);
    expect(result.stdout).not.toContain("\x1b[");
  });

  it("fails with --fail-on destroy", async () => {
    const result = await diff(v.base.file, v.removed.file, "--fail-on", "destroy,security");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("diff: failing on destroy, security (--fail-on destroy,security)\n");
  });
});

describe("a renamed resource", () => {
  it("flags the address change loudly: a destroy and a create", async () => {
    const result = await diff(v.base.file, v.renamed.file);
    expect(result.code).toBe(2);
    expect(bodyLines(result.stdout)).toEqual([
      "",
      "Alerts",
      "!! Address changed: aws_ecs_service.worker → aws_ecs_service.analysis_worker",
      "    Terraform destroys aws_ecs_service.worker and creates aws_ecs_service.analysis_worker, unless a moved block keeps the object",
      "",
      "Resources",
      "- aws_ecs_service.worker",
      "+ aws_ecs_service.analysis_worker",
      "~ aws_appautoscaling_policy.worker_backlog",
      '    target_tracking_scaling_policy_configuration.customized_metric_specification.metrics[1].metric_stat.metric.dimensions[1].value: "${aws_ecs_service.worker.name}" → "${aws_ecs_service.analysis_worker.name}"',
      "~ aws_appautoscaling_target.worker",
      '    resource_id: "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.worker.name}" → "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.analysis_worker.name}"',
      "~ aws_cloudwatch_metric_alarm.worker_backlog_without_workers",
      '    metric_query[1].metric.dimensions.ServiceName: "${aws_ecs_service.worker.name}" → "${aws_ecs_service.analysis_worker.name}"',
      "~ aws_cloudwatch_metric_alarm.worker_scale_from_zero",
      '    metric_query[1].metric.dimensions.ServiceName: "${aws_ecs_service.worker.name}" → "${aws_ecs_service.analysis_worker.name}"',
      "",
      "Outputs",
      "~ worker_service_arn",
      '    value: "${aws_ecs_service.worker.id}" → "${aws_ecs_service.analysis_worker.id}"',
      "~ worker_service_name",
      '    value: "${aws_ecs_service.worker.name}" → "${aws_ecs_service.analysis_worker.name}"',
      "",
      "Summary: 1 to create, 4 to update, 1 to destroy; 1 address change; 0 security changes; 2 variable/output/provider/local changes",
    ]);
    const json = JSON.parse((await diff(v.base.file, v.renamed.file, "--format", "json")).stdout);
    expect(json.addressChanges).toEqual([
      { from: "aws_ecs_service.worker", to: "aws_ecs_service.analysis_worker", type: "aws_ecs_service" },
    ]);
    expect((await diff(v.base.file, v.renamed.file, "--fail-on", "address")).code).toBe(1);
  });
});

describe("a widened IAM action", () => {
  it("shows the attribute path and the statement removed and added, in the security section", async () => {
    const result = await diff(v.base.file, v.widenedIam.file);
    expect(result.code).toBe(2);
    expect(bodyLines(result.stdout)).toEqual([
      "",
      "Resources",
      "~ data.aws_iam_policy_document.task_s3_sqs",
      '    statement[2].actions: ["sqs:SendMessage","sqs:ReceiveMessage","sqs:DeleteMessage","sqs:ChangeMessageVisibility","sqs:GetQueueAttributes","sqs:GetQueueUrl"] → ["sqs:SendMessage","sqs:ReceiveMessage","sqs:DeleteMessage","sqs:ChangeMessageVisibility","sqs:GetQueueAttributes","sqs:GetQueueUrl","sqs:*"]',
      "",
      "Security: IAM statements",
      "- Allow sqs:ChangeMessageVisibility, sqs:DeleteMessage, sqs:GetQueueAttributes, sqs:GetQueueUrl, sqs:ReceiveMessage, sqs:SendMessage on ${local.analysis_queue_arn}  [data.aws_iam_policy_document.task_s3_sqs, Sid AnalysisQueue]",
      "+ Allow sqs:*, sqs:ChangeMessageVisibility, sqs:DeleteMessage, sqs:GetQueueAttributes, sqs:GetQueueUrl, sqs:ReceiveMessage, sqs:SendMessage on ${local.analysis_queue_arn}  [data.aws_iam_policy_document.task_s3_sqs, Sid AnalysisQueue]",
      "",
      "Summary: 0 to create, 1 to update, 0 to destroy; 2 security changes",
    ]);
  });

  it("gives tools the statements as JSON, and fails with --fail-on security", async () => {
    const json = JSON.parse((await diff(v.base.file, v.widenedIam.file, "--format", "json")).stdout);
    expect(json.summary).toMatchObject({ create: 0, update: 1, destroy: 0, security: 2, changed: true });
    expect(json.security.statements.added).toEqual([
      {
        owner: "data.aws_iam_policy_document.task_s3_sqs",
        sid: "AnalysisQueue",
        effect: "Allow",
        actions: [
          "sqs:*",
          "sqs:ChangeMessageVisibility",
          "sqs:DeleteMessage",
          "sqs:GetQueueAttributes",
          "sqs:GetQueueUrl",
          "sqs:ReceiveMessage",
          "sqs:SendMessage",
        ],
        notActions: [],
        resources: ["${local.analysis_queue_arn}"],
        notResources: [],
        principals: [],
        notPrincipals: [],
        conditions: [],
      },
    ]);
    const failed = await diff(v.base.file, v.widenedIam.file, "--fail-on", "security");
    expect(failed.code).toBe(1);
    expect((await diff(v.base.file, v.widenedIam.file, "--fail-on", "destroy")).code).toBe(2);
  });
});

describe("an opened port", () => {
  it("shows the new rule and the exposure to the internet", async () => {
    const result = await diff(v.base.file, v.openedPort.file);
    expect(result.code).toBe(2);
    const lines = bodyLines(result.stdout);
    expect(lines.slice(lines.indexOf("Security: security group rules"))).toEqual([
      "Security: security group rules",
      "+ ingress tcp 22 from 0.0.0.0/0  [aws_security_group.ecs_tasks]",
      "",
      "Security: exposure",
      "+ ingress from 0.0.0.0/0: tcp 22  [aws_security_group.ecs_tasks]",
      "",
      "Summary: 0 to create, 1 to update, 0 to destroy; 2 security changes",
    ]);
    expect(lines).toContain("~ aws_security_group.ecs_tasks");
  });

  it("renders Markdown for a pull-request comment", async () => {
    const result = await diff(v.base.file, v.openedPort.file, "--format", "markdown");
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("### Infrastructure diff\n");
    expect(result.stdout).toContain("**Summary: 0 to create, 1 to update, 0 to destroy; 2 security changes**");
    expect(result.stdout).toContain(
      "#### Security: exposure\n\n```diff\n+ ingress from 0.0.0.0/0: tcp 22  [aws_security_group.ecs_tasks]\n```",
    );
    expect(result.stdout).toContain("#### Resources\n\n```diff\n! aws_security_group.ecs_tasks\n");
  });
});

describe("a changed backend key", () => {
  it("is flagged loudly, and --fail-on backend fails", async () => {
    const result = await diff(v.base.file, v.backendKey.file);
    expect(result.code).toBe(2);
    expect(bodyLines(result.stdout)).toEqual([
      "",
      "Alerts",
      "!! Backend changed: Terraform would read and write the state elsewhere (a state move, or a fresh state that recreates everything)",
      '    s3.key: "compute/terraform.tfstate" → "compute/v2/terraform.tfstate"',
      "",
      "Summary: 0 to create, 0 to update, 0 to destroy; backend changed; 0 security changes",
    ]);
    const md = await diff(v.base.file, v.backendKey.file, "--format", "markdown");
    expect(md.stdout).toContain("> [!CAUTION]\n> **Backend changed:");
    expect((await diff(v.base.file, v.backendKey.file, "--fail-on", "backend")).code).toBe(1);
  });
});

describe("JSON-encoded attributes", () => {
  it("compares container definitions structurally, attribute by attribute", async () => {
    const head = await withWorkerContainer((container) => {
      container.cpu = 256;
      (container.logConfiguration as { options: Record<string, string> }).options["awslogs-stream-prefix"] = "analysis";
    });
    const result = await diff(v.base.file, head.file);
    expect(bodyLines(result.stdout)).toEqual([
      "",
      "Resources",
      "~ aws_ecs_task_definition.worker",
      "    container_definitions[0].cpu: (none) → 256",
      '    container_definitions[0].logConfiguration.options["awslogs-stream-prefix"]: "worker" → "analysis"',
      "",
      "Summary: 0 to create, 1 to update, 0 to destroy; 0 security changes",
    ]);
  });
});

describe("bad input", () => {
  it.each([
    [["/no/such/cdk.tf.json", "B"], "diff: /no/such/cdk.tf.json does not exist\n"],
    [["README.md", "B"], "diff: README.md is not JSON\n"],
    [["OUTDIR", "OUTDIR", "--stack", "other"], /^diff: \S+ has no stack "other"; it holds: compute\n$/],
    [["NULL_BLOCK", "B"], /^diff: \S+: aws_ecs_cluster\.main is null, not a block \(an object\)\n$/],
    [
      ["BASE", "BASE", "--fail-on", ""],
      "diff: --fail-on needs at least one of destroy, stateful, address, backend, security, any\n",
    ],
    [["BASE", "BASE", "--no-such-option"], /^diff: Unknown option '--no-such-option'\..*; see --help\n$/],
    [
      ["package.json", "B"],
      'diff: package.json is not a synthesized stack: it has no terraform, resource or "//" metadata block\n',
    ],
    [["tools", "B"], "diff: tools is a folder without manifest.json: give a cdk.tf.json or a cdktf.out folder\n"],
    [["BASE", "BASE", "--format", "yaml"], 'diff: --format must be text, markdown or json, got "yaml"\n'],
    [
      ["BASE", "BASE", "--fail-on", "everything"],
      'diff: --fail-on takes destroy, stateful, address, backend, security, any; got "everything"\n',
    ],
    [["BASE"], /^diff: usage: npm run -s diff -- /],
  ])("%j: one clear line, exit 1", async (args, message) => {
    const resolved = args.map((a) =>
      a === "BASE" || a === "B"
        ? v.base.file
        : a === "OUTDIR"
          ? v.base.outdir
          : a === "NULL_BLOCK"
            ? withNullBlock(v.base.file)
            : a,
    );
    const result = await runTool("diff", resolved);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    if (typeof message === "string") expect(result.stderr).toBe(message);
    else expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });
});

describe("--base-ref", () => {
  let clone: string;
  beforeAll(async () => {
    // The working tree committed in a scratch clone (HEAD~1), then one more commit that changes the stack (HEAD).
    clone = await cloneWorkingTree();
    // The change: the app overrides one attribute of the stack (public cdktf API, by address).
    const appFile = join(clone, "main.ts");
    const source = readFileSync(appFile, "utf8");
    expect(source.split("app.synth();")).toHaveLength(2);
    writeFileSync(
      appFile,
      source.replace(
        "app.synth();",
        'app.node.findChild("compute").addOverride("resource.aws_ecs_service.backend.health_check_grace_period_seconds", 90);\napp.synth();',
      ),
    );
    await git(clone, "commit", "-q", "-am", "backend: longer health check grace period");
  });

  it("synthesizes the commit in a temporary worktree and compares it with the working tree", async () => {
    const result = await runTool("diff", ["--base-ref", "HEAD~1"], { root: clone });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(2);
    expect(result.stdout.split("\n")).toEqual([
      "Stack diff: HEAD~1 (synthesized) → working tree (synthesized)",
      "",
      "Resources",
      "~ aws_ecs_service.backend",
      "    health_check_grace_period_seconds: 60 → 90",
      "",
      "Summary: 0 to create, 1 to update, 0 to destroy; 0 security changes",
      "",
    ]);
    expect((await git(clone, "worktree", "list")).trim().split("\n")).toHaveLength(1);
    expect((await runTool("diff", ["--base-ref", "HEAD"], { root: clone })).code).toBe(0);
  });

  it("says so in one line when the ref does not exist", async () => {
    const result = await runTool("diff", ["--base-ref", "no-such-branch"], { root: clone });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`diff: git ref 'no-such-branch' does not exist in ${clone}\n`);
  });
});
