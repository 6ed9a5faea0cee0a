/**
 * `npm run scan`: checkov over the synthesized stack and its offline plan. (That
 * the stack itself passes with the committed skips is CI's own scan step, after
 * the synth.) A new finding fails with the check and the resource named, while
 * every other finding is one the committed skips cover; a skip that matches
 * nothing any more fails; a malformed skip file is one line naming the entry and the fix.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../tools/lib/project.js";
import { sshFromAnywhere } from "../helpers/catalogue.js";
import { runTool } from "../helpers/cli.js";
import { type Synthesized, synthCompute } from "../helpers/synth.js";

/** Generous: each step is a terraform run or a scan on a shared 2-core machine. */
const LONG = 300_000;

interface ScanJson {
  checkov: string;
  counts: { passed: number; skipped: number; failed: number };
  failed: { check: string; address: string }[];
  skipped: { check: string; address: string; reason: string }[];
  staleSkips: string[];
  ok: boolean;
}

const SKIPS = JSON.parse(readFileSync(join(PROJECT_ROOT, "checkov-skips.json"), "utf8")) as {
  skips: { check: string; resources: string[]; reason: string }[];
};
let synth: Synthesized;
beforeAll(() => {
  synth = synthCompute();
});

const scan = async (...args: string[]) => {
  const result = await runTool("scan", ["--format", "json", ...args]);
  return { ...result, json: result.stdout ? (JSON.parse(result.stdout) as ScanJson) : undefined };
};

describe("npm run scan", { timeout: LONG }, () => {
  it("fails on a new finding, naming the check and the resource, and on a skip nothing needs any more", async () => {
    const json = structuredClone(synth.json) as unknown as {
      resource: { aws_security_group: { ecs_tasks: { ingress: Record<string, unknown>[] } } };
    };
    json.resource.aws_security_group.ecs_tasks.ingress.push(
      sshFromAnywhere("SSH for debugging") as Record<string, unknown>,
    );
    const file = join(synth.outdir, "ssh-open.tf.json");
    writeFileSync(file, JSON.stringify(json, null, 2));
    const skips = structuredClone(SKIPS);
    // The worker's container has a read-only root file system: nothing to skip there
    skips.skips.find((s) => s.check === "CKV_AWS_336")?.resources.push("aws_ecs_task_definition.worker");
    const skipsFile = join(synth.outdir, "stale-skips.json");
    writeFileSync(skipsFile, JSON.stringify(skips));

    const result = await scan("--synth", file, "--skips", skipsFile);
    expect(result.code).toBe(1);
    const failed = result.json?.failed.map((f) => `${f.check} ${f.address}`) ?? [];
    // CKV_AWS_24: no security group allows ingress from 0.0.0.0/0 to port 22
    expect(failed).toContain("CKV_AWS_24 aws_security_group.ecs_tasks");
    expect(failed.every((f) => f.endsWith(" aws_security_group.ecs_tasks"))).toBe(true);
    expect(result.json?.staleSkips).toEqual(["CKV_AWS_336 aws_ecs_task_definition.worker"]);
    // every committed skip matched a finding, each with its reason
    const pairs = SKIPS.skips.flatMap((s) => s.resources.map((r) => `${s.check} ${r}`)).sort();
    expect(result.json?.skipped.map((f) => `${f.check} ${f.address}`).sort()).toEqual(pairs);
    for (const f of result.json?.skipped ?? []) expect(f.reason.length).toBeGreaterThan(40);
  });

  it.each([
    [
      { check: "CKV_AWS_*", resources: ["aws_iam_role.task"], reason: "x".repeat(50) },
      /skips\[0\]\.check must be one checkov check id/,
    ],
    [
      { check: "CKV_AWS_158", resources: [], reason: "x".repeat(50) },
      /skips\[0\]\.resources must list the resource addresses/,
    ],
    [{ check: "CKV_AWS_158", resources: ["aws_cloudwatch_log_group.worker"] }, /skips\[0\]\.reason must say why/],
  ])("rejects a malformed skip file in one line: %o", async (entry, message) => {
    const file = join(synth.outdir, "bad-skips.json");
    writeFileSync(file, JSON.stringify({ skips: [entry] }));
    const result = await runTool("scan", ["--synth", synth.outdir, "--skips", file]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });
});
