import { beforeAll, describe, expect, it } from "vitest";
import { terraformOk } from "../tools/lib/terraform/run.js";
import type { OfflineWorkdir } from "../tools/lib/terraform/workdir.js";
import { offlinePlans } from "./helpers/plan.js";
import { synthCompute } from "./helpers/synth.js";

describe("terraform validate", () => {
  const plans = offlinePlans();
  let workdir: OfflineWorkdir;
  beforeAll(async () => {
    workdir = await plans.workdir({ configFile: synthCompute().file });
    await terraformOk(workdir.dir, "init", ["-input=false"]);
  });

  it("accepts the synthesized stack with the mirrored provider", async () => {
    const result = await workdir.terraform("validate", ["-json"]);
    const report = JSON.parse(result.stdout) as { valid: boolean; error_count: number; diagnostics: unknown[] };
    expect(report.diagnostics).toEqual([]);
    expect(report).toMatchObject({ valid: true, error_count: 0 });
    expect(result.code).toBe(0);
  });
});
