import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { ComputeStack, type ComputeStackProps } from "../../stacks/compute-stack.js";

/** The parts of a synthesized `cdk.tf.json` that the tests read. */
export interface SynthJson {
  terraform: { backend: Record<string, Record<string, unknown>>; required_providers: Record<string, unknown> };
  provider: Record<string, Record<string, unknown>[]>;
  variable: Record<string, { type?: string; default?: unknown; description?: string; validation?: unknown[] }>;
  locals?: Record<string, unknown>;
  data: Record<string, Record<string, Record<string, unknown>>>;
  resource: Record<string, Record<string, Record<string, unknown>>>;
  output: Record<string, { value: string; description?: string }>;
}

export interface Synthesized {
  /** The synth's out dir (what `cdktf.out` is for `cdktf synth`). */
  outdir: string;
  /** Path of `stacks/compute/cdk.tf.json`. */
  file: string;
  json: SynthJson;
}

/**
 * Synthesizes the compute stack in process into a fresh temp folder;
 * `change` may alter the stack before synth (variants for the diff tests).
 */
export function synthCompute(props: ComputeStackProps = {}, change?: (stack: ComputeStack) => void): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), "cricksy-synth-"));
  const app = new App({ outdir });
  const stack = new ComputeStack(app, "compute", props);
  change?.(stack);
  app.synth();
  const file = join(outdir, "stacks", "compute", "cdk.tf.json");
  return { outdir, file, json: JSON.parse(readFileSync(file, "utf8")) as SynthJson };
}

/** `type.name` of every managed resource and `data.type.name` of every data source. */
export function configAddresses(json: SynthJson): string[] {
  const managed = Object.entries(json.resource ?? {}).flatMap(([type, byName]) =>
    Object.keys(byName).map((name) => `${type}.${name}`),
  );
  const data = Object.entries(json.data ?? {}).flatMap(([type, byName]) =>
    Object.keys(byName).map((name) => `data.${type}.${name}`),
  );
  return [...managed, ...data].sort();
}
