/**
 * Synthesized stacks (`cdk.tf.json`) as the diff and state tools read them:
 * loading with clear errors, and a flat view of what they declare.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../cli/errors.js";
import { assertExists, readJsonFile } from "../cli/input.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Blocks = Record<string, Record<string, Record<string, Json>>>;

/** A `variable` block as cdktf writes it. */
export interface VariableBlock {
  type?: string;
  default?: Json;
  description?: string;
  sensitive?: boolean;
  nullable?: boolean;
  validation?: { condition: string; error_message: string }[];
}

/** An `output` block as cdktf writes it. */
export interface OutputBlock {
  value: Json;
  description?: string;
  sensitive?: boolean;
}

export interface StackJson {
  "//"?: { metadata?: { stackName?: string; backend?: string } };
  terraform?: { backend?: Record<string, Record<string, Json>>; required_providers?: Record<string, Json> } & Record<
    string,
    Json
  >;
  provider?: Record<string, Json>;
  variable?: Record<string, VariableBlock>;
  locals?: Record<string, Json>;
  data?: Blocks;
  resource?: Blocks;
  output?: Record<string, OutputBlock>;
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
  assertExists(path);
  let file = path;
  if (statSync(path).isDirectory()) {
    const manifestPath = join(path, "manifest.json");
    if (!existsSync(manifestPath)) {
      throw new UsageError(`${path} is a folder without manifest.json: give a cdk.tf.json or a cdktf.out folder`);
    }
    const manifest = readJsonFile(manifestPath) as { stacks?: Record<string, { synthesizedStackPath?: string }> };
    const names = Object.keys(manifest.stacks ?? {});
    const name = stack ?? (names.length === 1 ? names[0] : undefined);
    if (stack && !manifest.stacks?.[stack]) {
      throw new UsageError(`${path} has no stack "${stack}"; it holds: ${names.join(", ") || "(none)"}`);
    }
    if (!name || !manifest.stacks?.[name]) {
      throw new UsageError(`${path} holds the stacks ${names.join(", ") || "(none)"}: name one with --stack`);
    }
    file = join(path, manifest.stacks[name].synthesizedStackPath ?? join("stacks", name, "cdk.tf.json"));
    if (!existsSync(file)) throw new UsageError(`${file} (stack ${name} of ${path}) does not exist: run npm run synth`);
  }
  const json = readJsonFile(file);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new UsageError(`${file} is not a synthesized stack: its JSON is not an object`);
  }
  const candidate = json as StackJson;
  if (!candidate.terraform && !candidate.resource && !candidate["//"]?.metadata) {
    throw new UsageError(`${file} is not a synthesized stack: it has no terraform, resource or "//" metadata block`);
  }
  checkBlocks(file, candidate);
  return { source: path, file, json: candidate };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every resource and data source block is an object (else one line naming the first that is not). */
function checkBlocks(file: string, json: StackJson): void {
  for (const kind of ["resource", "data"] as const) {
    const blocks: unknown = json[kind];
    if (blocks === undefined) continue;
    if (!isObject(blocks)) throw new UsageError(`${file}: "${kind}" is not an object of resource types`);
    for (const [type, byName] of Object.entries(blocks)) {
      if (!isObject(byName)) throw new UsageError(`${file}: ${kind}.${type} is not an object of named blocks`);
      for (const [name, block] of Object.entries(byName)) {
        if (!isObject(block)) {
          const address = kind === "data" ? `data.${type}.${name}` : `${type}.${name}`;
          throw new UsageError(
            `${file}: ${address} is ${block === null ? "null" : `a ${Array.isArray(block) ? "list" : typeof block}`}, not a block (an object)`,
          );
        }
      }
    }
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

/** The sorted addresses of a stack's resources (`managed`), data sources (`data`), or both. */
export function addresses(json: StackJson, mode?: Element["mode"]): string[] {
  return [...elements(json).values()]
    .filter((e) => mode === undefined || e.mode === mode)
    .map((e) => e.address)
    .sort();
}
