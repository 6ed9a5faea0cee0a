import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OfflineWorkdir, offlineWorkdir, terraform, terraformOk } from "../tools/lib/terraform.js";
import { synthCompute } from "./helpers/synth.js";

describe("terraform validate", () => {
  let workdir: OfflineWorkdir;
  beforeAll(async () => {
    workdir = await offlineWorkdir({ configFile: synthCompute().file });
    await terraformOk(workdir.dir, "init", ["-input=false"]);
  });
  afterAll(() => workdir?.dispose());

  it("accepts the synthesized stack with the mirrored provider", async () => {
    const result = await terraform(workdir.dir, "validate", ["-json"]);
    const report = JSON.parse(result.stdout) as { valid: boolean; error_count: number; diagnostics: unknown[] };
    expect(report.diagnostics).toEqual([]);
    expect(report).toMatchObject({ valid: true, error_count: 0 });
    expect(result.code).toBe(0);
  });
});
