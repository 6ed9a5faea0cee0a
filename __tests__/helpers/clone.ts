/**
 * A scratch copy of the project for tests that run commands on a whole
 * checkout: a clone of the repository with the working tree's files on top,
 * committed (so that `HEAD` is this tree), sharing node_modules (and
 * worker-src's, and .venv) with the checkout.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runProcessOk } from "../../tools/lib/cli/process.js";
import { PROJECT_ROOT } from "../../tools/lib/project.js";

/** Runs git in `cwd` with a test identity; its stdout. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const result = await runProcessOk("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", ...args], {
    cwd,
    what: `git ${args[0]}`,
  });
  return result.stdout;
}

/** A new scratch copy of the working tree (see the module's comment); its folder. */
export async function cloneWorkingTree(prefix = "cricksy-clone-"): Promise<string> {
  const clone = join(mkdtempSync(join(tmpdir(), prefix)), "project");
  await git(PROJECT_ROOT, "clone", "-q", PROJECT_ROOT, clone);
  const files = (await git(PROJECT_ROOT, "ls-files", "-co", "--exclude-standard"))
    .split("\n")
    .filter((f) => f && existsSync(join(PROJECT_ROOT, f)));
  for (const file of files) {
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(PROJECT_ROOT, file), join(clone, file));
  }
  await git(clone, "add", "-A");
  await git(clone, "commit", "-q", "--allow-empty", "-m", "the working tree");
  for (const shared of ["node_modules", join("worker-src", "node_modules"), ".venv"]) {
    if (existsSync(join(PROJECT_ROOT, shared))) symlinkSync(join(PROJECT_ROOT, shared), join(clone, shared), "dir");
  }
  return clone;
}
