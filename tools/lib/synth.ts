/** Synthesizing the app: the working tree, or a git commit in a temporary worktree. */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { UsageError } from "./stack-json.js";

const exec = promisify(execFile);

/** Runs the app (`tsx main.ts`, as `npm run synth` does) in `cwd`; returns the out dir. */
export async function synthApp(cwd: string, tsxFrom = cwd): Promise<string> {
  const outdir = join(mkdtempSync(join(tmpdir(), "cricksy-synth-")), "cdktf.out");
  try {
    await exec(join(tsxFrom, "node_modules", ".bin", "tsx"), ["main.ts"], {
      cwd,
      env: { ...process.env, CDKTF_OUTDIR: outdir },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new UsageError(`synth failed in ${cwd}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
  }
  return outdir;
}

/**
 * Synthesizes a commit: checks it out in a temporary git worktree, borrows this
 * checkout's node_modules, runs the app there, removes the worktree.
 */
export async function synthGitRef(ref: string, projectRoot: string): Promise<string> {
  const git = (...args: string[]) => exec("git", args, { cwd: projectRoot });
  let sha: string;
  try {
    sha = (await git("rev-parse", "--verify", "--quiet", `${ref}^{commit}`)).stdout.trim();
  } catch {
    throw new UsageError(`git ref '${ref}' does not exist in ${projectRoot}`);
  }
  const worktree = join(mkdtempSync(join(tmpdir(), "cricksy-ref-")), "tree");
  await git("worktree", "add", "--detach", "--quiet", worktree, sha);
  try {
    if (!existsSync(join(worktree, "main.ts"))) {
      throw new UsageError(`git ref '${ref}' (${sha.slice(0, 12)}) has no CDKTF app (main.ts)`);
    }
    symlinkSync(join(projectRoot, "node_modules"), join(worktree, "node_modules"), "dir");
    return await synthApp(worktree);
  } finally {
    await git("worktree", "remove", "--force", worktree).catch(() =>
      rmSync(worktree, { recursive: true, force: true }),
    );
    await git("worktree", "prune").catch(() => {});
  }
}
