/** Where the project is, for the tools and the tests: its root, and the committed synth. */
import { join, resolve } from "node:path";

export const PROJECT_ROOT = resolve(import.meta.dirname, "..", "..");

/** The committed synth of the stack, that CI compares every fresh synth with (`npm run baseline`). */
export const BASELINE = join(PROJECT_ROOT, "baseline", "compute.tf.json");
