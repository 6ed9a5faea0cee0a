/**
 * synth-and-diff end to end, through the command, on changes of the real
 * synth: Terraform's verdicts in words, causes named once, cascades, moves,
 * the security section (a policy moved to another role, an inline policy
 * removed), what it could not know; the exit codes and each --fail-on kind
 * (through --report: one plan, many gates); cosmetic changes that change
 * nothing; --base-ref in a scratch clone, leaving no temporary folder; bad input.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ChangeReport } from "../tools/lib/diff/change-report.js";
import type { StackJson } from "../tools/lib/stack/read.js";
import { applyEdits, cosmeticEdit, type Edit, removalEdit, renameEdit, sshFromAnywhere } from "./helpers/catalogue.js";
import { bodyLines, runTool } from "./helpers/cli.js";
import { cloneWorkingTree, git } from "./helpers/clone.js";
import { type Synthesized, synthCompute } from "./helpers/synth.js";

const dir = mkdtempSync(join(tmpdir(), "cricksy-diff-test-"));
let synth: Synthesized;
beforeAll(() => {
  synth = synthCompute();
});

/** A head: the synth with `edits`, written to a file. */
function head(name: string, edits: Edit[]): string {
  const file = join(dir, `${name}.tf.json`);
  writeFileSync(file, JSON.stringify(applyEdits(synth.json, edits), null, 2));
  return file;
}

/** An edit from a function of the JSON. */
const edit = (describe: string, apply: (json: StackJson) => void): Edit => ({
  kind: "probe",
  target: describe,
  describe,
  apply,
});
const block = (json: StackJson, type: string, name: string) =>
  (json.resource as Record<string, Record<string, Record<string, unknown>>>)[type][name];

const diff = (...args: string[]) => runTool("diff", args);

describe("no change", () => {
  it("says so and exits 0 without planning, for files and cdktf.out folders alike", async () => {
    const again = synthCompute();
    const result = await diff(synth.outdir, again.outdir);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `Stack diff: ${synth.outdir} → ${again.outdir}\n\nNo changes: both synthesize the same infrastructure.\n`,
    );
    const json = JSON.parse((await diff(synth.file, again.file, "--format", "json")).stdout) as ChangeReport;
    expect(json.verdicts).toEqual({ engine: "identical" });
    expect(json.summary.changed).toBe(false);
  });

  it("a cosmetic reorder (keys of every block, IAM action lists) plans no change: exit 0, every gate quiet", async () => {
    const reordered = head("cosmetic", [cosmeticEdit()]);
    const result = await diff(synth.file, reordered, "--fail-on", "any");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = bodyLines(result.stdout);
    expect(lines[0]).toMatch(
      /^Verdicts: Terraform [\d.]+, terraform plan -refresh=false of the head against a stand-in state of the base/,
    );
    // The reordered action lists show as what they are: configuration that changes nothing.
    const changedBlocks = lines.filter((l) => /^[-+~] /.test(l));
    expect(changedBlocks.length).toBeGreaterThan(0);
    expect(
      changedBlocks.every((l) => /^~ data\.aws_iam_policy_document\.\w+ {2}\(no resource changes\)$/.test(l)),
    ).toBe(true);
    expect(lines.at(-1)).toBe("No changes: Terraform plans none; the configuration changes above have no effect.");
  }, 300_000);
});

describe("a change of several kinds, planned once", () => {
  let reportFile: string;
  let report: ChangeReport;
  let text: string[];
  beforeAll(async () => {
    const changed = head("kinds", [
      // stateful: the worker's log group under a new name (its logs go with it)
      edit("log group renamed", (j) => {
        block(j, "aws_cloudwatch_log_group", "worker").name = "/${local.name}/worker-logs";
      }),
      // security: SSH from anywhere
      edit("ssh", (j) => {
        const sg = block(j, "aws_security_group", "ecs_tasks");
        sg.ingress = [...(sg.ingress as unknown[]), sshFromAnywhere("SSH")];
      }),
      // security: the S3/SQS policy attached to the worker's role instead
      edit("policy moved", (j) => {
        block(j, "aws_iam_role_policy_attachment", "task_s3_sqs").role = "${aws_iam_role.worker_task.name}";
      }),
      // security: an inline policy removed (its document stays)
      removalEdit("aws_iam_role_policy.task_execution_secrets"),
      // a rename with a moved block, and one without
      renameEdit("aws_iam_role.task", true),
      renameEdit("aws_cloudwatch_metric_alarm.worker_queue_age", false),
    ]);
    const result = await diff(synth.file, changed, "--format", "json");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(2);
    reportFile = join(dir, "kinds.report.json");
    writeFileSync(reportFile, result.stdout);
    report = JSON.parse(result.stdout);
    const rendered = await diff("--report", reportFile);
    expect(rendered.code).toBe(2);
    text = rendered.stdout.split("\n");
  });

  it("gives Terraform's verdict per address, in words, with the attributes that force a replacement", () => {
    const section = text.slice(text.indexOf("Resources (Terraform's verdicts)"), text.indexOf("Cascades"));
    const lines = section.filter((l) => /^(-\/\+|\+\/-|[-+~→]) aws_/.test(l));
    expect(lines).toEqual([
      "- aws_cloudwatch_metric_alarm.worker_queue_age: delete  ← configuration",
      "- aws_iam_role_policy.task_execution_secrets: delete  ← configuration",
      // create before destroy: the task definition that follows it is replaced that way
      "+/- aws_cloudwatch_log_group.worker: replace (create the new one, then destroy the old one, forced by name)  (destroys state: its log events are deleted)  ← configuration",
      "+/- aws_ecs_task_definition.worker: new revision (Terraform replaces it, forced by container_definitions; how aws_ecs_task_definition changes)  ← cascade from aws_cloudwatch_log_group.worker",
      "-/+ aws_iam_role_policy_attachment.task_s3_sqs: replace (destroy, then create, forced by role)  ← configuration",
      "+ aws_cloudwatch_metric_alarm.worker_queue_age_renamed: create  ← configuration",
      "~ aws_ecs_service.worker: update in place  ← cascade from aws_ecs_task_definition.worker",
      "~ aws_security_group.ecs_tasks: update in place  ← configuration",
      "→ aws_iam_role.task_renamed: moved from aws_iam_role.task (no change)  ← configuration",
    ]);
    expect(text).toContain('    name: "/cricksy-ai/worker" → "/cricksy-ai/worker-logs"');
    // A set (the group's rules) compared as a set: the rule added, not the others shifted position by position.
    expect(text.filter((l) => l.startsWith("    ingress"))).toEqual([
      expect.stringMatching(
        /^ {4}ingress: \(none\) → \{"cidr_blocks":\["0\.0\.0\.0\/0"\],"description":"SSH","from_port":22,/,
      ),
    ]);
    expect(text).toContain(
      '    task_definition: "arn:aws:ecs:us-east-2:123456789012:task-definition/stand-in-worker" → (known after apply)',
    );
  });

  it("lists the cascades, and warns of the rename without a moved block", () => {
    const at = text.indexOf("Cascades");
    expect(text.slice(at, at + 3)).toEqual([
      "Cascades",
      "  aws_cloudwatch_log_group.worker (replace) → aws_ecs_task_definition.worker (replace)",
      "  aws_ecs_task_definition.worker (replace) → aws_ecs_service.worker (update)",
    ]);
    expect(text).toContain(
      "!! Address changed: aws_cloudwatch_metric_alarm.worker_queue_age → aws_cloudwatch_metric_alarm.worker_queue_age_renamed",
    );
    expect(report.addressChanges).toEqual([
      {
        from: "aws_cloudwatch_metric_alarm.worker_queue_age",
        to: "aws_cloudwatch_metric_alarm.worker_queue_age_renamed",
        type: "aws_cloudwatch_metric_alarm",
      },
    ]);
  });

  it("sees the policy moved to another role and the inline policy removed in the security section", () => {
    const at = text.indexOf("Security: IAM statements");
    const iam = text.slice(at + 1, text.indexOf("", at));
    // Every statement of the moved policy: taken from the task role (under its moved address), given to the worker's.
    const moved = iam.filter((l) =>
      l.includes("[aws_iam_policy.task_s3_sqs ← data.aws_iam_policy_document.task_s3_sqs"),
    );
    expect(moved.filter((l) => l.startsWith("- ") && l.includes(" to aws_iam_role.task_renamed  ["))).toHaveLength(3);
    expect(moved.filter((l) => l.startsWith("+ ") && l.includes(" to aws_iam_role.worker_task  ["))).toHaveLength(3);
    expect(iam).toContain(
      "- Allow secretsmanager:GetSecretValue on ${var.database_url_secret_arn} to aws_iam_role.task_execution  [aws_iam_role_policy.task_execution_secrets ← data.aws_iam_policy_document.task_execution_secrets, Sid ReadDatabaseUrl]",
    );
    expect(iam).toContain(
      "+ Allow secretsmanager:GetSecretValue on ${var.database_url_secret_arn} to not used  [data.aws_iam_policy_document.task_execution_secrets, Sid ReadDatabaseUrl]",
    );
    expect(text).toContain("+ ingress tcp 22 from 0.0.0.0/0  [aws_security_group.ecs_tasks]");
    expect(text).toContain("+ ingress from 0.0.0.0/0: tcp 22  [aws_security_group.ecs_tasks]");
  });

  it("says what it could not know, and sums up", () => {
    const at = text.indexOf("What the verdicts could not know");
    expect(text[at + 1]).toMatch(/^ {2}· Values known only after apply: aws_ecs_service\.worker \(task_definition\)/);
    // the stack's lookups: the caller identity, and the analysis queue and its dead-letter queue
    expect(text.slice(at).find((l) => l.includes("Data sources were read offline"))).toMatch(
      /^ {2}· Data sources were read offline, in region us-east-2: a loopback stand-in for AWS answered the caller identity \(account 123456789012\) and the SQS queues (?=.*-dlq\b)[\w.-]+, [\w.-]+ \(stand-ins with default attributes\)\.$/,
    );
    expect(text).toContain(
      "Summary: 1 to create, 2 to update, 3 to replace (1 new task definition revision), 2 to delete, 1 moved; 1 stateful destroy; 1 address change; 12 security changes; 3 output changes",
    );
  });

  it.each([
    ["destroy", 3],
    ["stateful", 3],
    ["address", 3],
    ["security", 3],
    ["backend", 2],
    ["any", 3],
    ["backend,address", 3],
  ])("--fail-on %s: exit %i", async (kinds, code) => {
    const result = await diff("--report", reportFile, "--fail-on", kinds, "--format", "json");
    expect(result.code).toBe(code);
    expect(result.stderr).toBe(
      code === 3
        ? `diff: failing on ${kinds
            .split(",")
            .filter((k) => k !== "backend")
            .join(
              ", ",
            )} (--fail-on ${kinds})${kinds.includes("destroy") ? ": aws_cloudwatch_log_group.worker, aws_cloudwatch_metric_alarm.worker_queue_age, aws_iam_role_policy.task_execution_secrets, aws_iam_role_policy_attachment.task_s3_sqs" : kinds.includes("stateful") ? ": aws_cloudwatch_log_group.worker" : kinds.includes("address") ? ": aws_cloudwatch_metric_alarm.worker_queue_age → aws_cloudwatch_metric_alarm.worker_queue_age_renamed" : ""}\n`
        : "",
    );
  });

  it("says replace in words in Markdown, with the destroys called out and the cascades listed", async () => {
    const md = (await diff("--report", reportFile, "--format", "markdown")).stdout;
    expect(md).toContain("> [!CAUTION]\n");
    expect(md).toContain(
      "> **Replaces `aws_cloudwatch_log_group.worker`** (its log events are deleted): forced by `name`  \n",
    );
    expect(md).toContain("> **Deletes `aws_iam_role_policy.task_execution_secrets`**  \n");
    expect(md).toContain(
      "#### Resources (Terraform's verdicts)\n\n```diff\n- aws_cloudwatch_metric_alarm.worker_queue_age: delete",
    );
    expect(md).toContain(
      "-/+ aws_iam_role_policy_attachment.task_s3_sqs: replace (destroy, then create, forced by role)",
    );
    expect(md).toContain(
      "#### Cascades\n\n```diff\n  aws_cloudwatch_log_group.worker (replace) → aws_ecs_task_definition.worker (replace)",
    );
  });

  it("colours text on a terminal or with FORCE_COLOR, never with NO_COLOR or into a pipe", async () => {
    const forced = await runTool("diff", ["--report", reportFile], { env: { FORCE_COLOR: "1" } });
    expect(forced.stdout).toContain(
      "\x1b[31m- aws_iam_role_policy.task_execution_secrets: delete  ← configuration\x1b[39m",
    );
    const plain = await runTool("diff", ["--report", reportFile], { env: { NO_COLOR: "1", FORCE_COLOR: undefined } });
    expect(plain.stdout).not.toContain("\x1b[");
    expect(text.join("\n")).not.toContain("\x1b[");
  });
});

describe("a change reached through references: a variable's default, the backend", () => {
  let text: string[];
  let report: ChangeReport;
  beforeAll(async () => {
    const changed = head("variable", [
      edit("project name", (j) => {
        (j.variable as Record<string, { default?: unknown }>).project_name.default = "cricksy-x";
      }),
      edit("backend key", (j) => {
        (j.terraform as { backend: { s3: Record<string, unknown> } }).backend.s3.key = "compute/v2/terraform.tfstate";
      }),
    ]);
    const result = await diff(synth.file, changed, "--format", "json");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(2);
    report = JSON.parse(result.stdout);
    const file = join(dir, "variable.report.json");
    writeFileSync(file, result.stdout);
    text = (await diff("--report", file)).stdout.split("\n");
  });

  it("shows the change on the resources it reaches and names the cause once", () => {
    const causes = report.causes.map((c) => c.address);
    expect(causes).toEqual(["var.project_name"]);
    const reached = report.resources.filter((r) => r.causes.includes("var.project_name")).map((r) => r.address);
    // Every name derives from it: every resource of the synth changes, and each says why.
    expect(reached.sort()).toEqual(
      Object.entries(synth.json.resource)
        .flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`))
        .filter((a) => report.resources.some((r) => r.address === a && r.causes.includes("var.project_name")))
        .sort(),
    );
    expect(reached.length).toBeGreaterThan(15);
    expect(text.filter((l) => l.startsWith("~ var.project_name"))).toEqual([
      `~ var.project_name  (reaches ${reached.length} changed resources)`,
    ]);
    expect(text).toContain('    default: "cricksy-ai" → "cricksy-x"');
    expect(text).toContain(
      "-/+ aws_ecs_cluster.main: replace (destroy, then create, forced by name)  ← var.project_name",
    );
  });

  it("flags the backend first", () => {
    expect(text.slice(3, 6)).toEqual([
      "Alerts",
      "!! Backend changed: Terraform would read and write the state elsewhere (a state move, or a fresh state that recreates everything)",
      '    s3.key: "compute/terraform.tfstate" → "compute/v2/terraform.tfstate"',
    ]);
    expect(report.summary.backendChanged).toBe(true);
  });
});

describe("--base-ref", () => {
  let clone: string;
  beforeAll(async () => {
    // The working tree committed in a scratch clone (HEAD~1), then one more commit that changes the stack (HEAD).
    clone = await cloneWorkingTree();
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

  it("synthesizes the commit in a temporary worktree, plans, and leaves no temporary folder or worktree", async () => {
    const temp = mkdtempSync(join(tmpdir(), "cricksy-tmp-"));
    const env = { TMPDIR: temp };
    const result = await runTool("diff", ["--base-ref", "HEAD~1"], { root: clone, env });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(2);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe("Stack diff: HEAD~1 (synthesized) → working tree (synthesized)");
    expect(lines).toContain("~ aws_ecs_service.backend: update in place  ← configuration");
    expect(lines).toContain("    health_check_grace_period_seconds: 60 → 90");
    expect(lines.some((l) => l.startsWith("  · Variables without a value got stand-ins"))).toBe(true);
    // (tsx, which runs the command, keeps its own compile cache there)
    expect(readdirSync(temp).filter((name) => !name.startsWith("tsx-"))).toEqual([]);
    expect((await git(clone, "worktree", "list")).trim().split("\n")).toHaveLength(1);
    const same = await runTool("diff", ["--base-ref", "HEAD"], { root: clone, env });
    expect(same.code).toBe(0);
    // (tsx, which runs the command, keeps its own compile cache there)
    expect(readdirSync(temp).filter((name) => !name.startsWith("tsx-"))).toEqual([]);
  });

  it("says so in one line when the ref does not exist", async () => {
    const result = await runTool("diff", ["--base-ref", "no-such-branch"], { root: clone });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`diff: git ref 'no-such-branch' does not exist in ${clone}\n`);
  });
});

describe("bad input", () => {
  const nullBlock = () => {
    const json = JSON.parse(readFileSync(synth.file, "utf8"));
    json.resource.aws_ecs_cluster.main = null;
    const file = join(dir, "null-block.tf.json");
    writeFileSync(file, JSON.stringify(json));
    return file;
  };
  const listBlock = () => {
    const json = JSON.parse(readFileSync(synth.file, "utf8"));
    json.resource.aws_ecs_cluster.main = [1, 2];
    const file = join(dir, "list-block.tf.json");
    writeFileSync(file, JSON.stringify(json));
    return file;
  };
  const notJson = () => {
    const file = join(dir, "secret.tf.json");
    writeFileSync(file, '{"resource": {"aws_x": {"y": {"password": "hunter2"');
    return file;
  };
  const folder = () => {
    const made = join(dir, "empty-folder");
    mkdirSync(made, { recursive: true });
    return made;
  };

  it.each([
    [["/no/such/cdk.tf.json", "BASE"], "diff: /no/such/cdk.tf.json does not exist\n"],
    [["README.md", "BASE"], "diff: README.md is not JSON\n"],
    [["NOT_JSON", "BASE"], /^diff: \S+secret\.tf\.json is not JSON \(line 1, column 52\)\n$/],
    [["OUTDIR", "OUTDIR", "--stack", "other"], /^diff: \S+ has no stack "other"; it holds: compute\n$/],
    [["NULL_BLOCK", "BASE"], /^diff: \S+: aws_ecs_cluster\.main is null, not a block \(an object\)\n$/],
    [["LIST_BLOCK", "BASE"], /^diff: \S+: aws_ecs_cluster\.main is a list, not a block \(an object\)\n$/],
    [
      ["BASE", "BASE", "--fail-on", ""],
      "diff: --fail-on needs at least one of destroy, stateful, address, backend, security, any\n",
    ],
    [["BASE", "BASE", "--no-such-option"], /^diff: Unknown option '--no-such-option'\..*; see --help\n$/],
    [
      ["package.json", "BASE"],
      'diff: package.json is not a synthesized stack: it has no terraform, resource or "//" metadata block\n',
    ],
    [
      ["FOLDER", "BASE"],
      /^diff: \S+empty-folder is a folder without manifest.json: give a cdk.tf.json or a cdktf.out folder\n$/,
    ],
    [["BASE", "BASE", "--format", "yaml"], 'diff: --format must be text, markdown or json, got "yaml"\n'],
    [
      ["BASE", "BASE", "--fail-on", "everything"],
      'diff: --fail-on takes destroy, stateful, address, backend, security, any; got "everything"\n',
    ],
    [["BASE", "BASE", "--var-file", "/no/such.tfvars"], "diff: /no/such.tfvars does not exist\n"],
    [["BASE", "BASE", "--state", "package.json"], /^diff: package.json is not a Terraform state of format version 4/],
    [
      ["--report", "package.json"],
      /^diff: package.json is not a diff report: give what npm run -s diff -- \.\.\. --format json wrote\n$/,
    ],
    [["--report", "package.json", "BASE"], /^diff: --report takes no base, head, --base-ref, --state or --var-file/],
    [["BASE"], /^diff: usage: npm run -s diff -- /],
  ])("%j: one clear line, exit 1", async (args, message) => {
    const resolved = args.map((a) =>
      a === "BASE"
        ? synth.file
        : a === "OUTDIR"
          ? synth.outdir
          : a === "NULL_BLOCK"
            ? nullBlock()
            : a === "LIST_BLOCK"
              ? listBlock()
              : a === "NOT_JSON"
                ? notJson()
                : a === "FOLDER"
                  ? folder()
                  : a,
    );
    const result = await runTool("diff", resolved);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    if (typeof message === "string") expect(result.stderr).toBe(message);
    else expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).not.toContain("hunter2");
  });

  it("a head that Terraform rejects: Terraform's error in one line, exit 1", async () => {
    const broken = head("broken", [
      edit("launch type", (j) => {
        block(j, "aws_ecs_service", "worker").launch_type = "SPACESHIP";
      }),
    ]);
    const result = await diff(synth.file, broken);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      /^diff: terraform plan of the head \(\S+broken\.tf\.json\) failed: Error: expected launch_type to be one of \["EC2" "FARGATE" "EXTERNAL"\], got SPACESHIP\n$/,
    );
  });
});
