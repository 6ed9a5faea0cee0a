/**
 * Synthesized stacks (`cdk.tf.json`) as the diff and state tools read them:
 * loading with clear errors, and a flat view of what they declare.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** Bad input for a command: printed as one line, exit 1. */
export class UsageError extends Error {}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Blocks = Record<string, Record<string, Record<string, Json>>>;

export interface StackJson {
  "//"?: { metadata?: { stackName?: string; backend?: string } };
  terraform?: { backend?: Record<string, Record<string, Json>>; required_providers?: Record<string, Json> } & Record<
    string,
    Json
  >;
  provider?: Record<string, Json>;
  variable?: Record<string, Record<string, Json>>;
  locals?: Record<string, Json>;
  data?: Blocks;
  resource?: Blocks;
  output?: Record<string, Record<string, Json>>;
  moved?: Json;
}

export interface LoadedStack {
  /** Where it came from, as the user named it. */
  source: string;
  /** The cdk.tf.json file itself. */
  file: string;
  json: StackJson;
}

/** A `cdk.tf.json` file, or a `cdktf.out` folder (its manifest names the stack; `stack` picks one of several). */
export function loadStack(path: string, stack?: string): LoadedStack {
  if (!existsSync(path)) throw new UsageError(`${path} does not exist`);
  let file = path;
  if (statSync(path).isDirectory()) {
    const manifestPath = join(path, "manifest.json");
    if (!existsSync(manifestPath)) {
      throw new UsageError(`${path} is a folder without manifest.json: give a cdk.tf.json or a cdktf.out folder`);
    }
    const manifest = readJson(manifestPath) as { stacks?: Record<string, { synthesizedStackPath?: string }> };
    const names = Object.keys(manifest.stacks ?? {});
    const name = stack ?? (names.length === 1 ? names[0] : undefined);
    if (!name || !manifest.stacks?.[name]) {
      throw new UsageError(`${path} holds the stacks ${names.join(", ") || "(none)"}: name one with --stack`);
    }
    file = join(path, manifest.stacks[name].synthesizedStackPath ?? join("stacks", name, "cdk.tf.json"));
    if (!existsSync(file)) throw new UsageError(`${file} (stack ${name} of ${path}) does not exist: run npm run synth`);
  }
  const json = readJson(file);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new UsageError(`${file} is not a synthesized stack: its JSON is not an object`);
  }
  const candidate = json as StackJson;
  if (!candidate.terraform && !candidate.resource && !candidate["//"]?.metadata) {
    throw new UsageError(`${file} is not a synthesized stack: it has no terraform, resource or "//" metadata block`);
  }
  return { source: path, file, json: candidate };
}

function readJson(file: string): unknown {
  const text = readFileSync(file, "utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
}

export interface Element {
  address: string;
  mode: "managed" | "data";
  type: string;
  name: string;
  /** The construct path cdktf recorded, when there is one. */
  path?: string;
  /** Attributes without cdktf's `//` metadata. */
  attributes: Record<string, Json>;
}

function withoutMetadata(block: Record<string, Json>): { attributes: Record<string, Json>; path?: string } {
  const { "//": meta, ...attributes } = block;
  const path = (meta as { metadata?: { path?: string } } | undefined)?.metadata?.path;
  return { attributes, path };
}

/** Every resource and data source, by address (`type.name`, `data.type.name`). */
export function elements(json: StackJson): Map<string, Element> {
  const out = new Map<string, Element>();
  for (const [mode, blocks] of [
    ["managed", json.resource ?? {}],
    ["data", json.data ?? {}],
  ] as const) {
    for (const [type, byName] of Object.entries(blocks)) {
      for (const [name, block] of Object.entries(byName)) {
        const address = mode === "data" ? `data.${type}.${name}` : `${type}.${name}`;
        out.set(address, { address, mode, type, name, ...withoutMetadata(block) });
      }
    }
  }
  return out;
}
