import { execFile } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../tools/lib/terraform.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of the project's tools (`tools/<name>.ts`) as `npm run` does: tsx on the project's Node. */
export function runTool(
  tool: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; root?: string } = {},
): Promise<CliResult> {
  const root = options.root ?? PROJECT_ROOT;
  return new Promise((resolve) => {
    execFile(
      join(root, "node_modules", ".bin", "tsx"),
      [join(root, "tools", `${tool}.ts`), ...args],
      { cwd: options.cwd ?? root, env: { ...process.env, NO_COLOR: "", ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** The lines of a text output, without the first (which names the temp files). */
export const bodyLines = (stdout: string) => stdout.trimEnd().split("\n").slice(1);
