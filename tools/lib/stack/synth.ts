/** Synthesizing the app: the working tree, or a git commit in a temporary worktree. */
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../cli/errors.js";
import { runProcess, runProcessOk } from "../cli/process.js";

/** Runs the app (`tsx main.ts`, as `npm run synth` does) in `cwd`; returns the out dir (a `cdktf.out`). */
export async function synthApp(cwd: string, tsxFrom = cwd): Promise<string> {
  const outdir = join(mkdtempSync(join(tmpdir(), "cricksy-synth-")), "cdktf.out");
  const result = await runProcess(join(tsxFrom, "node_modules", ".bin", "tsx"), ["main.ts"], {
    cwd,
    env: { ...process.env, CDKTF_OUTDIR: outdir },
  });
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split("\n").slice(-3).join(" | ");
    throw new UsageError(`synth failed in ${cwd}: ${tail}`);
  }
  return outdir;
}

/**
 * Synthesizes a commit: checks it out in a temporary git worktree, borrows this
 * checkout's node_modules, runs the app there, removes the worktree (and its folder).
 */
export async function synthGitRef(ref: string, projectRoot: string): Promise<string> {
  const git = (...args: string[]) => runProcess("git", args, { cwd: projectRoot });
  const resolved = await git("rev-parse", "--verify", "--quiet", `${ref}^{commit}`);
  if (resolved.code !== 0) throw new UsageError(`git ref '${ref}' does not exist in ${projectRoot}`);
  const sha = resolved.stdout.trim();
  const parent = mkdtempSync(join(tmpdir(), "cricksy-ref-"));
  const worktree = join(parent, "tree");
  await runProcessOk("git", ["worktree", "add", "--detach", "--quiet", worktree, sha], {
    cwd: projectRoot,
    what: `git worktree add (for ${ref})`,
  });
  try {
    if (!existsSync(join(worktree, "main.ts"))) {
      throw new UsageError(`git ref '${ref}' (${sha.slice(0, 12)}) has no CDKTF app (main.ts)`);
    }
    symlinkSync(join(projectRoot, "node_modules"), join(worktree, "node_modules"), "dir");
    return await synthApp(worktree);
  } finally {
    await git("worktree", "remove", "--force", worktree);
    await git("worktree", "prune");
    rmSync(parent, { recursive: true, force: true });
  }
}
