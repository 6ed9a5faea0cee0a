import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineWorkdir } from "../tools/lib/terraform/workdir.js";
import { LEGACY_TFVARS } from "./helpers/fixtures.js";
import { offlinePlans } from "./helpers/plan.js";
import { synthCompute } from "./helpers/synth.js";

describe("variables without a default", () => {
  const plans = offlinePlans();
  let workdir: OfflineWorkdir;
  beforeAll(async () => {
    workdir = await plans.workdir({ configFile: synthCompute().file });
    // prod.tfvars without its worker_image line
    const tfvars = (await readFile(LEGACY_TFVARS, "utf8"))
      .split("\n")
      .filter((line) => !line.startsWith("worker_image"))
      .join("\n");
    await writeFile(join(workdir.dir, "no-worker-image.tfvars"), tfvars);
  });

  it("make terraform plan fail with Terraform's own message when left unset", async () => {
    const result = await workdir.plan({ varFile: "no-worker-image.tfvars" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("No value for required variable");
    expect(result.stderr).toMatch(
      /The root module input variable\s+"worker_image" is not set, and has no default\s+value/,
    );
    expect(result.json).toBeUndefined();
  });
});
