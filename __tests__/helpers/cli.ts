import { join } from "node:path";
import { type ProcessResult, runProcess } from "../../tools/lib/cli/process.js";
import { PROJECT_ROOT } from "../../tools/lib/project.js";

export type CliResult = ProcessResult;

/** Runs one of the project's tools (`tools/<name>.ts`) as `npm run` does: tsx on the project's Node. */
export function runTool(
  tool: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; root?: string } = {},
): Promise<CliResult> {
  const root = options.root ?? PROJECT_ROOT;
  return runProcess(join(root, "node_modules", ".bin", "tsx"), [join(root, "tools", `${tool}.ts`), ...args], {
    cwd: options.cwd ?? root,
    env: { ...process.env, NO_COLOR: "", ...options.env },
  });
}

/** The lines of a text output, without the first (which names the temp files). */
export const bodyLines = (stdout: string) => stdout.trimEnd().split("\n").slice(1);
