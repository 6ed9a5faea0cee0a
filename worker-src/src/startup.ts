/**
 * Checks at start, before the first receive: what would otherwise make every job
 * fail later is a configuration error now (exit 78, one line naming the variable).
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "./config.js";

/**
 * `dir` exists (or can be made, when `create`) and this user can create, write
 * and remove files in it: the way a job uses it.
 */
export async function checkWritableDir(variable: string, dir: string, options: { create?: boolean } = {}) {
  const uid = process.getuid?.() ?? "?";
  if (options.create) await mkdir(dir, { recursive: true }).catch(() => {});
  try {
    if (!(await stat(dir)).isDirectory()) {
      throw new ConfigError(variable, `${dir} is not a directory; point it at a writable directory`);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      variable,
      `${dir} does not exist (${(error as NodeJS.ErrnoException).code}); create it or mount a volume there`,
    );
  }
  let probe: string | undefined;
  try {
    probe = await mkdtemp(join(dir, ".write-check-"));
    await writeFile(join(probe, "probe"), "ok");
  } catch (error) {
    throw new ConfigError(
      variable,
      `${dir} is not writable by this user (uid ${uid}): ${(error as NodeJS.ErrnoException).code}; ` +
        "give the user write access (the image declares it as a VOLUME owned by node) or point the variable elsewhere",
    );
  } finally {
    if (probe) await rm(probe, { recursive: true, force: true });
  }
}
