/**
 * The picture of the infrastructure: made from the synth, every resource in it,
 * and the committed copy (the one the README shows) is the current one.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stackGraph, toMermaid } from "../tools/lib/graph/model.js";
import { renderSvg } from "../tools/lib/graph/svg.js";
import { PROJECT_ROOT } from "../tools/lib/project.js";
import { runTool } from "./helpers/cli.js";
import { configAddresses, type Synthesized, synthCompute } from "./helpers/synth.js";

let synth: Synthesized;
let svg: string;
let mermaid: string;
beforeAll(async () => {
  synth = synthCompute();
  const graph = stackGraph(synth.json);
  svg = await renderSvg(graph, "cricksy-ai compute stack (npm run graph)");
  mermaid = toMermaid(graph);
});

describe("the infrastructure graph", () => {
  it("has every resource and data source of the synth, in the SVG and in Mermaid", () => {
    const addresses = configAddresses(synth.json);
    expect(addresses.length).toBeGreaterThan(0);
    const drawn = [...svg.matchAll(/data-address="([^"]+)"/g)].map((m) => m[1]).sort();
    expect(drawn).toEqual(addresses);
    for (const address of addresses) expect(mermaid).toContain(`"${address}"`);
  });

  it("groups by concern, draws references as edges and lists the variables apart", () => {
    for (const label of [
      "Cluster and network",
      "Backend (API)",
      "Worker",
      "Worker scaling",
      "IAM",
      "Alarms",
      "Data sources",
    ]) {
      expect(svg).toContain(`>${label}</text>`);
    }
    expect(mermaid).toContain('subgraph worker["Worker"]');
    expect(mermaid).toContain("  aws_ecs_service_worker --> aws_ecs_cluster_main\n");
    expect(mermaid).toContain("  aws_ecs_service_worker --> aws_ecs_task_definition_worker\n");
    expect(mermaid).toContain("  aws_appautoscaling_target_worker --> aws_ecs_service_worker\n");
    expect(mermaid).toContain("  aws_iam_role_worker_task --> data_aws_iam_policy_document_ecs_task_role_assume\n");
    expect(svg).toContain(`>Input variables (${Object.keys(synth.json.variable).length})</text>`);
    expect(svg).toContain(">var.worker_min_count</text>");
    expect(svg.match(/class="edge"/g)?.length).toBeGreaterThanOrEqual(30);
  });

  it("is committed as drawn from the current synth (the picture in the README)", async () => {
    expect(readFileSync(join(PROJECT_ROOT, "docs", "infrastructure.svg"), "utf8")).toBe(svg);
    expect(readFileSync(join(PROJECT_ROOT, "docs", "infrastructure.mmd"), "utf8")).toBe(mermaid);
    const check = await runTool("graph", ["--check"]);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
  });
});
