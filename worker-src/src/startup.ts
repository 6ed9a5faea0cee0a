/**
 * Checks at start, before the first receive: what would otherwise make every job
 * fail later is a configuration error now (exit 78, one line naming the variable).
 */
import { mkdir, mkdtemp, open, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ConfigError } from "./config.js";

/**
 * `dir` exists (or can be made, when `create`) and this user can create, write
 * and remove files in it: the way a job uses it.
 */
export async function checkWritableDir(
  variable: string,
  dir: string,
  options: {
    create?: boolean;
    /** What the path is, when it is not the variable's value itself ("the directory of …"). */
    what?: string;
    /** Said after the error (why this variable names this directory). */
    note?: string;
  } = {},
) {
  const uid = process.getuid?.() ?? "?";
  const path = options.what ? `${dir} (${options.what})` : dir;
  const note = options.note ? `; ${options.note}` : "";
  if (options.create) await mkdir(dir, { recursive: true }).catch(() => {});
  try {
    if (!(await stat(dir)).isDirectory()) {
      throw new ConfigError(variable, `${path} is not a directory; point it at a writable directory${note}`);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      variable,
      `${path} does not exist (${(error as NodeJS.ErrnoException).code}); create it or mount a volume there${note}`,
    );
  }
  let probe: string | undefined;
  try {
    probe = await mkdtemp(join(dir, ".write-check-"));
    await writeFile(join(probe, "probe"), "ok");
  } catch (error) {
    throw new ConfigError(
      variable,
      `${path} is not writable by this user (uid ${uid}): ${(error as NodeJS.ErrnoException).code}; ` +
        `give the user write access (the image declares it as a VOLUME owned by node) or point the variable elsewhere${note}`,
    );
  } finally {
    if (probe) await rm(probe, { recursive: true, force: true });
  }
}

/**
 * The liveness file can be written: its directory exists and is writable, and the file
 * itself (when it exists) is a file this user may write. Otherwise the health check
 * would fail forever while the worker runs: better one clear line at start.
 */
export async function checkWritableFile(variable: string, file: string) {
  await checkWritableDir(variable, dirname(file), { what: `the directory of ${file}` });
  try {
    await (await open(file, "a")).close();
  } catch (error) {
    throw new ConfigError(
      variable,
      `${file} cannot be written by this user (uid ${process.getuid?.() ?? "?"}): ${(error as NodeJS.ErrnoException).code}; point it at a file in a writable directory`,
    );
  }
}
