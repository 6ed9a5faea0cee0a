/** Synthesizing the app: the working tree, or a git commit in a temporary worktree. */

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../cli/errors.js";
import { runProcess, runProcessOk } from "../cli/process.js";
import { tempDir, untilExit } from "../cli/temp.js";

/**
 * Runs the app (`tsx main.ts`, as `npm run synth` does) in `cwd`, writing to `outdir` (a `cdktf.out`;
 * its parent must exist); returns `outdir`.
 */
export async function synthApp(cwd: string, outdir: string, tsxFrom = cwd): Promise<string> {
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
 * Synthesizes a commit into `outdir`: checks it out in a temporary git worktree, borrows this
 * checkout's node_modules, runs the app there, removes the worktree and its folder (also when the
 * process is stopped meanwhile).
 */
export async function synthGitRef(ref: string, projectRoot: string, outdir: string): Promise<string> {
  const git = (...args: string[]) => runProcess("git", args, { cwd: projectRoot });
  const resolved = await git("rev-parse", "--verify", "--quiet", `${ref}^{commit}`);
  if (resolved.code !== 0) throw new UsageError(`git ref '${ref}' does not exist in ${projectRoot}`);
  const sha = resolved.stdout.trim();
  const parent = tempDir("cricksy-ref-");
  const worktree = join(parent.dir, "tree");
  const removeWorktree = () => {
    spawnSync("git", ["worktree", "remove", "--force", worktree], { cwd: projectRoot, stdio: "ignore" });
    spawnSync("git", ["worktree", "prune"], { cwd: projectRoot, stdio: "ignore" });
  };
  const done = untilExit(removeWorktree);
  try {
    await runProcessOk("git", ["worktree", "add", "--detach", "--quiet", worktree, sha], {
      cwd: projectRoot,
      what: `git worktree add (for ${ref})`,
    });
    if (!existsSync(join(worktree, "main.ts"))) {
      throw new UsageError(`git ref '${ref}' (${sha.slice(0, 12)}) has no CDKTF app (main.ts)`);
    }
    symlinkSync(join(projectRoot, "node_modules"), join(worktree, "node_modules"), "dir");
    mkdirSync(join(outdir, ".."), { recursive: true });
    return await synthApp(worktree, outdir);
  } finally {
    done();
    await git("worktree", "remove", "--force", worktree);
    await git("worktree", "prune");
    parent.remove();
  }
}

/** Synthesizes the app in `cwd` into a temporary `cdktf.out` for `use`, then removes it. */
export async function withSynth<T>(cwd: string, use: (outdir: string) => Promise<T> | T): Promise<T> {
  const temp = tempDir("cricksy-synth-");
  try {
    return await use(await synthApp(cwd, join(temp.dir, "cdktf.out")));
  } finally {
    temp.remove();
  }
}
