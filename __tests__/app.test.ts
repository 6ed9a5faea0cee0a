import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import { runProcessOk } from "../tools/lib/cli/process.js";
import { PROJECT_ROOT } from "../tools/lib/project.js";
import { assertTerraform, terraformEnv } from "../tools/lib/terraform/run.js";
import { offlineWorkdir } from "../tools/lib/terraform/workdir.js";
import { LEGACY_STATE, LEGACY_TFVARS, newInstances } from "./helpers/fixtures.js";
import { synthCompute } from "./helpers/synth.js";

const npmSynth = (outdir: string, env: NodeJS.ProcessEnv = {}) =>
  runProcessOk("npm", ["run", "-s", "synth"], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CDKTF_OUTDIR: outdir, ...env },
  });

describe("the app, as `npm run synth` and cdktf-cli run it", () => {
  it("is the command of cdktf.json, and npm run synth runs it", () => {
    const cdktfJson = JSON.parse(readFileSync(join(PROJECT_ROOT, "cdktf.json"), "utf8"));
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8"));
    expect(cdktfJson.app).toBe("node_modules/.bin/tsx main.ts");
    expect(pkg.scripts.synth).toBe("tsx main.ts");
  });

  let outdir: string;

  it("writes the manifest and stacks/compute/cdk.tf.json, identical to an in-process synth", async () => {
    outdir = join(mkdtempSync(join(tmpdir(), "cricksy-app-")), "cdktf.out");
    await npmSynth(outdir);
    const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8"));
    expect(manifest.stacks.compute).toMatchObject({
      name: "compute",
      synthesizedStackPath: "stacks/compute/cdk.tf.json",
      workingDirectory: "stacks/compute",
    });
    const written = JSON.parse(readFileSync(join(outdir, "stacks", "compute", "cdk.tf.json"), "utf8"));
    expect(written).toEqual(synthCompute().json);
  });

  async function cdktfDiff(out: string) {
    const stackDir = join(out, "stacks", "compute");
    // The offline harness in the stack's own folder (kept): override, state, loopback AWS for these inputs.
    const workdir = await offlineWorkdir({ dir: stackDir, stateFile: LEGACY_STATE });
    try {
      await workdir.prepare({ varFile: LEGACY_TFVARS });
      const { stdout } = await runProcessOk(
        join(PROJECT_ROOT, "node_modules", ".bin", "cdktf"),
        ["diff", "compute", "--skip-synth", "--skip-provider-lock", "--output", out, "--var-file", LEGACY_TFVARS],
        // cdktf diff has no -refresh=false of its own; Terraform takes it from TF_CLI_ARGS_plan.
        { cwd: PROJECT_ROOT, env: terraformEnv({ CI: "1", TF_CLI_ARGS_plan: "-refresh=false", NO_COLOR: "1" }) },
      );
      expect(workdir.aws.calls.map((c) => c.action)).toContain("GetCallerIdentity");
      // cdktf-cli colours Terraform's output whatever NO_COLOR says
      return stripVTControlCharacters(stdout);
    } finally {
      await workdir.dispose();
    }
  }

  it("plans, through `cdktf diff --skip-synth`, the worker's operations against the legacy state", async () => {
    await assertTerraform();
    const stdout = await cdktfDiff(outdir);
    // What the state lacks and the new task definition revision; the service points at it, the task role's trust narrows.
    const added = newInstances(synthCompute().json).length + 1;
    expect(stdout).toContain(`Plan: ${added} to add, 2 to change, 1 to destroy.`);
    expect(stdout).toMatch(/aws_ecs_task_definition\.worker.* must be replaced/);
  });

  it("in legacy-parity mode (CRICKSY_LEGACY_PARITY=1) writes the legacy-parity stack", async () => {
    // The same JSON as the in-process parity synth, whose plan against the legacy state is
    // "No changes" in legacy-parity.test.ts (and through cdktf-cli's plan, above, for the default).
    const parity = join(mkdtempSync(join(tmpdir(), "cricksy-app-")), "cdktf.out");
    await npmSynth(parity, { CRICKSY_LEGACY_PARITY: "1" });
    const written = JSON.parse(readFileSync(join(parity, "stacks", "compute", "cdk.tf.json"), "utf8"));
    expect(written).toEqual(synthCompute({ workerOperations: false }).json);
    expect(written).not.toEqual(synthCompute().json);
  });
});
