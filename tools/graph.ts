/**
 * `npm run graph`: draws the synthesized stack, as docs/infrastructure.svg and
 * docs/infrastructure.mmd (Mermaid), from a fresh synth of the working tree.
 *
 *   npm run graph                       write both files
 *   npm run -s graph -- --check         exit 1 when the committed files are not the current picture
 *   npm run -s graph -- --synth <cdk.tf.json|cdktf.out> --out-dir <dir>
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runCli } from "./lib/cli.js";
import { stackGraph, toMermaid } from "./lib/graph-model.js";
import { renderSvg } from "./lib/graph-svg.js";
import { loadStack } from "./lib/stack-json.js";
import { synthApp } from "./lib/synth.js";
import { PROJECT_ROOT } from "./lib/terraform.js";

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      synth: { type: "string" },
      "out-dir": { type: "string", default: join(PROJECT_ROOT, "docs") },
      check: { type: "boolean", default: false },
    },
  });
  const stack = loadStack(values.synth ?? (await synthApp(PROJECT_ROOT)), "compute");
  const graph = stackGraph(stack.json);
  const files = {
    "infrastructure.svg": await renderSvg(graph, "cricksy-ai compute stack (npm run graph)"),
    "infrastructure.mmd": toMermaid(graph),
  };
  const outDir = values["out-dir"] as string;
  if (values.check) {
    const stale = Object.entries(files).filter(
      ([name, content]) => !existsSync(join(outDir, name)) || readFileSync(join(outDir, name), "utf8") !== content,
    );
    if (stale.length) {
      console.error(
        `graph: ${stale.map(([n]) => join(outDir, n)).join(", ")} not current: run npm run graph and commit`,
      );
      return 1;
    }
    console.log("graph: docs/infrastructure.svg and .mmd are current");
    return 0;
  }
  mkdirSync(outDir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(outDir, name), content);
  console.log(
    `graph: ${graph.nodes.length} resources and data sources, ${graph.edges.length} references, ${graph.variables.length} variables -> ${join(outDir, "infrastructure.svg")}, ${join(outDir, "infrastructure.mmd")}`,
  );
  return 0;
}

runCli("graph", main);
