import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { ComputeStack, type ComputeStackProps } from "../../stacks/compute-stack.js";
import { addresses, type Json, type StackJson } from "../../tools/lib/stack/read.js";

/** A synthesized `cdk.tf.json` as the tools read it (StackJson), with the blocks that cdktf always writes for this stack. */
export interface SynthJson extends StackJson {
  terraform: NonNullable<StackJson["terraform"]> & {
    backend: Record<string, Record<string, Json>>;
    required_providers: Record<string, Json>;
  };
  provider: Record<string, Json>;
  variable: NonNullable<StackJson["variable"]>;
  data: NonNullable<StackJson["data"]>;
  resource: NonNullable<StackJson["resource"]>;
  output: NonNullable<StackJson["output"]>;
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
 * `change` may alter the stack before synth.
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

/** `type.name` of every managed resource and `data.type.name` of every data source, sorted (the tools' reader). */
export const configAddresses = (json: StackJson): string[] => addresses(json);
