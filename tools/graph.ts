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
import { runCommand } from "./lib/cli/command.js";
import { stackGraph, toMermaid } from "./lib/graph/model.js";
import { renderSvg } from "./lib/graph/svg.js";
import { PROJECT_ROOT } from "./lib/project.js";
import { loadStack } from "./lib/stack/read.js";
import { withSynth } from "./lib/stack/synth.js";

runCommand({
  name: "graph",
  summary:
    "Draws the synthesized stack (resources and data sources by concern, references as arrows, variables apart) as infrastructure.svg and infrastructure.mmd (Mermaid).",
  usage: ["[--check] [--synth <cdk.tf.json|cdktf.out>] [--out-dir <dir>]"],
  options: {
    synth: {
      type: "string",
      value: "cdk.tf.json|cdktf.out",
      help: "The synth to draw. Default: a fresh synth of the working tree.",
    },
    "out-dir": { type: "string", value: "dir", default: join(PROJECT_ROOT, "docs"), help: "Where the pictures go." },
    check: { type: "boolean", help: "Write nothing; exit 1 when the files there are not the current picture." },
  },
  async run(options) {
    const stack = options.synth
      ? loadStack(options.synth, "compute")
      : await withSynth(PROJECT_ROOT, (outdir) => loadStack(outdir, "compute"));
    const graph = stackGraph(stack.json);
    const files = {
      "infrastructure.svg": await renderSvg(graph, "cricksy-ai compute stack (npm run graph)"),
      "infrastructure.mmd": toMermaid(graph),
    };
    const outDir = options["out-dir"];
    if (options.check) {
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
  },
});
