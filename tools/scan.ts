/**
 * A peer's security rules over the synthesized stack: checkov (PyPI, pinned in
 * tools/python, installed into .venv by npm ci), offline.
 *
 *   npm run -s scan [-- --synth <cdk.tf.json|cdktf.out>] [--var-file <tfvars>] [--skips <file>]
 *                      [--framework terraform_json|terraform_plan] [--format text|json]
 *
 * checkov reads the synthesized cdk.tf.json (`--framework terraform_json`) and the
 * JSON of an offline `terraform plan` of it (`--framework terraform_plan`), where
 * variables and references are resolved and more checks can decide. Findings are
 * counted per check and resource address, both frameworks together. Every finding
 * the project deliberately does not follow is skipped in checkov-skips.json, per
 * check id and resource, with a reason (and the proposed change, where there is
 * one); a skip that no longer matches a finding is an error too, so the file
 * cannot rot. Exit 0: no finding outside the skips; 1: findings, a stale or
 * malformed skip, or bad input.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { runCommand } from "./lib/cli/command.js";
import { UsageError } from "./lib/cli/errors.js";
import { runProcess } from "./lib/cli/process.js";
import { tempDir } from "./lib/cli/temp.js";
import { PROJECT_ROOT } from "./lib/project.js";
import { loadStack, type StackJson } from "./lib/stack/read.js";
import { synthApp } from "./lib/stack/synth.js";
import { offlineWorkdir } from "./lib/terraform/workdir.js";

const CHECKOV = join(PROJECT_ROOT, ".venv", "bin", "checkov");
const DEFAULT_SKIPS = join(PROJECT_ROOT, "checkov-skips.json");
/** The production inputs, for the plan: the same file the state tests plan with. */
const DEFAULT_VAR_FILE = join(PROJECT_ROOT, "__tests__", "fixtures", "legacy", "prod.tfvars");
const FRAMEWORKS = ["terraform_json", "terraform_plan"] as const;
type Framework = (typeof FRAMEWORKS)[number];

interface Skip {
  check: string;
  resources: string[];
  reason: string;
  proposal?: string;
}

interface Finding {
  check: string;
  name: string;
  address: string;
  result: "passed" | "failed";
  frameworks: Framework[];
}

/** The skip file: one entry per check id, naming its resources and the reason; nothing wholesale. */
function readSkips(file: string): Skip[] {
  if (!existsSync(file)) throw new UsageError(`${file} does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const skips = (parsed as { skips?: unknown }).skips;
  if (!Array.isArray(skips)) throw new UsageError(`${file}: "skips" must be a list`);
  const seen = new Set<string>();
  return skips.map((raw, i) => {
    const s = raw as Partial<Skip>;
    const where = `${file}: skips[${i}]`;
    if (typeof s.check !== "string" || !/^CKV2?_[A-Z0-9]+_\d+$/.test(s.check)) {
      throw new UsageError(
        `${where}.check must be one checkov check id such as CKV_AWS_158 (no families, no wildcards)`,
      );
    }
    if (seen.has(s.check)) throw new UsageError(`${where}: ${s.check} is listed twice; give it one entry`);
    seen.add(s.check);
    if (
      !Array.isArray(s.resources) ||
      s.resources.length === 0 ||
      s.resources.some((r) => !/^[\w.-]+\.[\w-]+$/.test(r))
    ) {
      throw new UsageError(
        `${where}.resources must list the resource addresses it covers, e.g. ["aws_security_group.ecs_tasks"]`,
      );
    }
    if (typeof s.reason !== "string" || s.reason.trim().length < 40) {
      throw new UsageError(
        `${where}.reason must say why the project does not follow ${s.check} (a sentence a reviewer can judge)`,
      );
    }
    return { check: s.check, resources: s.resources, reason: s.reason.trim(), proposal: s.proposal };
  });
}

/** Line ranges of the resource and data blocks in a `JSON.stringify(json, null, 2)` text: address by line. */
function blockLines(text: string): { address: string; from: number; to: number }[] {
  const blocks: { address: string; from: number; to: number }[] = [];
  let section = "";
  let type = "";
  let open: { address: string; from: number } | undefined;
  text.split("\n").forEach((line, i) => {
    const n = i + 1;
    const top = /^ {2}"([^"]+)": /.exec(line);
    if (top) section = top[1];
    const typeLine = /^ {4}"([^"]+)": \{$/.exec(line);
    if (typeLine && (section === "resource" || section === "data")) type = typeLine[1];
    const nameLine = /^ {6}"([^"]+)": \{$/.exec(line);
    if (nameLine && (section === "resource" || section === "data")) {
      open = { address: `${section === "data" ? "data." : ""}${type}.${nameLine[1]}`, from: n };
    }
    if (open && /^ {6}\},?$/.test(line)) {
      blocks.push({ ...open, to: n });
      open = undefined;
    }
  });
  return blocks;
}

interface CheckovRecord {
  check_id: string;
  check_name: string;
  resource: string;
  file_line_range?: [number, number];
}

interface CheckovReport {
  check_type: string;
  results: { passed_checks?: CheckovRecord[]; failed_checks?: CheckovRecord[]; parsing_errors?: string[] };
  summary: { passed: number; failed: number; parsing_errors: number; checkov_version: string };
}

async function runCheckov(file: string, framework: Framework): Promise<CheckovReport> {
  const { code, stdout, stderr } = await runProcess(
    CHECKOV,
    ["-f", file, "--framework", framework, "-o", "json", "--skip-download", "--compact", "--soft-fail"],
    {
      cwd: mkdtempSync(join(tmpdir(), "cricksy-checkov-")),
      // Offline: checkov would fetch Prisma Cloud's guidelines and check its version.
      env: { ...process.env, HTTP_PROXY: "http://127.0.0.1:9", HTTPS_PROXY: "http://127.0.0.1:9", NO_PROXY: "" },
    },
  );
  const tail = stderr.trim().split("\n").slice(-3).join(" | ");
  let report: CheckovReport | undefined;
  try {
    const parsed = JSON.parse(stdout) as CheckovReport | CheckovReport[];
    report = Array.isArray(parsed) ? parsed.find((r) => r.check_type === framework) : parsed;
  } catch {
    report = undefined;
  }
  if (!report?.summary) throw new UsageError(`checkov failed on ${file} (${framework}, exit ${code}): ${tail}`);
  if (report.summary.parsing_errors > 0)
    throw new UsageError(`checkov could not parse ${file} (${framework}): ${tail}`);
  return report;
}

/**
 * The file checkov's terraform_json reader gets: the synth, pretty-printed, without
 * `terraform.required_version` (checkov 3.3.30 fails to parse a string attribute
 * of the terraform block: "this method receives only dicts"); no check reads it.
 */
function scanCopy(json: StackJson, dir: string): { file: string; lines: ReturnType<typeof blockLines> } {
  const copy = structuredClone(json);
  if (copy.terraform) delete (copy.terraform as Record<string, unknown>).required_version;
  const text = `${JSON.stringify(copy, null, 2)}\n`;
  const file = join(dir, "cdk.tf.json");
  writeFileSync(file, text);
  return { file, lines: blockLines(text) };
}

runCommand({
  name: "scan",
  summary:
    "Runs checkov (from .venv) over the synthesized stack and over the JSON of its offline plan; every finding the project does not follow is skipped in checkov-skips.json with a reason, and a skip that matches no finding fails too.",
  usage: [
    "[--synth <cdk.tf.json|cdktf.out>] [--var-file <tfvars>] [--skips <file>] [--framework ...] [--format text|json]",
  ],
  options: {
    synth: {
      type: "string",
      value: "path",
      help: "A synthesized stack (cdk.tf.json or a cdktf.out folder). Default: a fresh synth of the working tree.",
    },
    stack: { type: "string", value: "name", help: "The stack in a cdktf.out folder with several." },
    "var-file": {
      type: "string",
      value: "file",
      help: "Inputs of the plan. Default: the production fixture's tfvars.",
    },
    skips: { type: "string", value: "file", help: "The skip file. Default: checkov-skips.json." },
    framework: { type: "list", choices: FRAMEWORKS, help: "Which of checkov's readers run. Default: both." },
    format: { type: "string", choices: ["text", "json"], default: "text", help: "Output format." },
  },
  details: "Exit codes: 0 no finding outside the skips; 1 findings, a stale or malformed skip, or bad input.",
  run: scan,
});

interface ScanValues {
  synth?: string;
  stack?: string;
  "var-file"?: string;
  skips?: string;
  framework: string[];
  format: string;
}

/** The scan in a temporary folder (the synth, checkov's inputs), removed at the end, also on Ctrl-C. */
async function scan(values: ScanValues): Promise<number> {
  const temp = tempDir("cricksy-scan-");
  try {
    return await scanIn(values, temp.dir);
  } finally {
    temp.remove();
  }
}

async function scanIn(values: ScanValues, work: string): Promise<number> {
  const frameworks = (values.framework.length ? values.framework : [...FRAMEWORKS]) as Framework[];
  if (!existsSync(CHECKOV)) {
    throw new UsageError(`${CHECKOV} is missing: run \`npm ci\` (it installs checkov into .venv from tools/python)`);
  }
  const skipsFile = values.skips ? resolve(values.skips) : DEFAULT_SKIPS;
  const skips = readSkips(skipsFile);
  const varFile = values["var-file"] ? resolve(values["var-file"]) : DEFAULT_VAR_FILE;
  if (!existsSync(varFile)) throw new UsageError(`--var-file ${varFile} does not exist`);

  const synthPath = values.synth ?? (await synthApp(PROJECT_ROOT, join(work, "cdktf.out")));
  const stack = loadStack(isAbsolute(synthPath) ? synthPath : resolve(synthPath), values.stack);
  const copy = scanCopy(stack.json, work);

  const reports = await Promise.all(
    frameworks.map(async (framework) => {
      if (framework === "terraform_json") return { framework, report: await runCheckov(copy.file, framework) };
      // The plan of the whole stack from an empty state: every resource with its planned values.
      const workdir = await offlineWorkdir({ configFile: stack.file });
      try {
        const planned = await workdir.plan({ varFile });
        if (planned.code !== 0 || !planned.json) {
          throw new UsageError(`terraform plan failed:\n${(planned.stderr || planned.stdout).trim()}`);
        }
        const planFile = join(work, "plan.json");
        writeFileSync(planFile, JSON.stringify(planned.json));
        return { framework, report: await runCheckov(planFile, framework) };
      } finally {
        await workdir.dispose();
      }
    }),
  );

  // One finding per check and address, over both frameworks: failed when any failed.
  const findings = new Map<string, Finding>();
  for (const { framework, report } of reports) {
    for (const [result, records] of [
      ["passed", report.results.passed_checks ?? []],
      ["failed", report.results.failed_checks ?? []],
    ] as const) {
      for (const r of records) {
        const line = r.file_line_range?.[0] ?? -1;
        const address =
          framework === "terraform_json"
            ? (copy.lines.find((b) => line >= b.from && line <= b.to)?.address ?? r.resource)
            : r.resource;
        const key = `${r.check_id} ${address}`;
        const known = findings.get(key);
        if (!known) {
          findings.set(key, { check: r.check_id, name: r.check_name, address, result, frameworks: [framework] });
        } else if (result === "failed" && known.result === "passed") {
          // the frameworks listed are those that gave the finding its result
          findings.set(key, { ...known, result, frameworks: [framework] });
        } else if (result === known.result && !known.frameworks.includes(framework)) {
          known.frameworks.push(framework);
        }
      }
    }
  }
  const all = [...findings.values()].sort((a, b) => `${a.check} ${a.address}`.localeCompare(`${b.check} ${b.address}`));
  const skipOf = (f: Finding) => skips.find((s) => s.check === f.check && s.resources.includes(f.address));
  const failed = all.filter((f) => f.result === "failed" && !skipOf(f));
  const skipped = all.filter((f) => f.result === "failed" && skipOf(f));
  const passed = all.filter((f) => f.result === "passed");
  // A skip must still be needed: each of its (check, resource) pairs fails. Only known when every
  // framework ran (a skip does not say which framework finds it).
  const complete = FRAMEWORKS.every((f) => frameworks.includes(f));
  const stale = (complete ? skips : []).flatMap((s) =>
    s.resources
      .filter((address) => !skipped.some((f) => f.check === s.check && f.address === address))
      .map((address) => `${s.check} ${address}`),
  );
  const version = reports[0]?.report.summary.checkov_version ?? "?";
  const ok = failed.length === 0 && stale.length === 0;

  if (values.format === "json") {
    process.stdout.write(
      `${JSON.stringify(
        {
          checkov: version,
          synth: values.synth ?? "the working tree (synthesized)",
          frameworks: Object.fromEntries(
            reports.map(({ framework, report }) => [
              framework,
              { passed: report.summary.passed, failed: report.summary.failed },
            ]),
          ),
          counts: { passed: passed.length, skipped: skipped.length, failed: failed.length },
          failed,
          skipped: skipped.map((f) => ({ ...f, reason: skipOf(f)?.reason, proposal: skipOf(f)?.proposal })),
          staleSkips: stale,
          ok,
        },
        null,
        2,
      )}\n`,
    );
    return ok ? 0 : 1;
  }

  const lines = [
    `checkov ${version} on ${values.synth ?? "the working tree (synthesized)"}`,
    ...reports.map(
      ({ framework, report }) =>
        `  ${framework}: ${report.summary.passed} passed, ${report.summary.failed} failed${framework === "terraform_plan" ? ` (plan with ${varFile.replace(`${PROJECT_ROOT}/`, "")})` : ""}`,
    ),
    `Checks by resource, both together: ${passed.length} passed, ${skipped.length} skipped (${skipsFile.replace(`${PROJECT_ROOT}/`, "")}), ${failed.length} failed`,
  ];
  if (skipped.length) {
    lines.push("", "Skipped, with the project's reasons:");
    for (const s of skips) {
      const hits = skipped.filter((f) => f.check === s.check);
      if (!hits.length) continue;
      lines.push(
        `  ${s.check} ${hits[0].name}`,
        `    on: ${hits.map((f) => f.address).join(", ")}`,
        `    why: ${s.reason}`,
      );
      if (s.proposal) lines.push(`    proposed: ${s.proposal}`);
    }
  }
  if (failed.length) {
    lines.push("", "Failed:");
    for (const f of failed) lines.push(`  ${f.check} ${f.address}: ${f.name} [${f.frameworks.join(", ")}]`);
    lines.push("  Fix the stack, or skip the check for that resource in checkov-skips.json with a reason.");
  }
  if (!complete) lines.push("", "Skips not checked for staleness: run both frameworks for that.");
  if (stale.length) {
    lines.push("", "Skips that match no finding any more (remove them):", ...stale.map((s) => `  ${s}`));
  }
  lines.push("", ok ? "Result: pass" : "Result: FAIL");
  process.stdout.write(`${lines.join("\n")}\n`);
  return ok ? 0 : 1;
}
