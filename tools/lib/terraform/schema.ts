/**
 * What the provider says about its resource types (`terraform providers schema
 * -json`): each type's schema version, and each attribute's type and whether it
 * is computed. The stand-in state (base-state.ts) needs both: a state records
 * every instance's schema version, and a value Terraform only knows after apply
 * gets a stand-in of the attribute's type.
 *
 * The full schema of hashicorp/aws is 13 MB and takes seconds to produce, so a
 * slim copy (types and flags, no descriptions) is kept per provider build in
 * `node_modules/.cache/cricksy-infra/` (the build: source, version and hashes from
 * the workdir's `.terraform.lock.hcl`), and read from there afterwards.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProcessError } from "../cli/errors.js";
import { runProcess } from "../cli/process.js";
import { PROJECT_ROOT } from "../project.js";
import { terraformEnv } from "./run.js";

/** A cty type as Terraform's JSON writes it: `"string"`, `["list", "string"]`, `["object", {...}]`. */
export type CtyType =
  | string
  | [string, CtyType | Record<string, CtyType>]
  | [string, Record<string, CtyType>, string[]];

export interface AttributeSchema {
  type: CtyType;
  computed: boolean;
  optional: boolean;
}

export interface BlockSchema {
  attributes: Record<string, AttributeSchema>;
  /** Nested blocks: `list`, `set`, `single`, `map`, `group` and their block. */
  blocks: Record<string, { nesting: string; block: BlockSchema }>;
}

export interface ResourceTypeSchema {
  version: number;
  block: BlockSchema;
}

/** Resource types by name (`aws_ecs_service`), for every provider of a configuration. */
export type ProviderSchemas = Record<string, ResourceTypeSchema>;

export const SCHEMA_CACHE_DIR = join(PROJECT_ROOT, "node_modules", ".cache", "cricksy-infra", "provider-schemas");

interface RawBlock {
  attributes?: Record<string, { type?: CtyType; computed?: boolean; optional?: boolean }>;
  block_types?: Record<string, { nesting_mode: string; block: RawBlock }>;
}

function slim(block: RawBlock): BlockSchema {
  return {
    attributes: Object.fromEntries(
      Object.entries(block.attributes ?? {}).map(([name, a]) => [
        name,
        { type: a.type ?? "dynamic", computed: a.computed === true, optional: a.optional === true },
      ]),
    ),
    blocks: Object.fromEntries(
      Object.entries(block.block_types ?? {}).map(([name, b]) => [
        name,
        { nesting: b.nesting_mode, block: slim(b.block) },
      ]),
    ),
  };
}

/** The providers a workdir was initialized with, as its lock file pins them (a stable key for the cache). */
function lockKey(dir: string): string | undefined {
  const lock = join(dir, ".terraform.lock.hcl");
  if (!existsSync(lock)) return undefined;
  return createHash("sha256").update(readFileSync(lock)).digest("hex").slice(0, 24);
}

/**
 * The resource type schemas of the providers a workdir was initialized with (`terraform init` done):
 * from the cache when this provider build was seen before, else from `terraform providers schema -json`.
 */
export async function providerSchemas(dir: string, cacheDir = SCHEMA_CACHE_DIR): Promise<ProviderSchemas> {
  const key = lockKey(dir);
  const cached = key ? join(cacheDir, `${key}.json`) : undefined;
  if (cached && existsSync(cached)) {
    try {
      return JSON.parse(readFileSync(cached, "utf8")) as ProviderSchemas;
    } catch {
      // A torn or foreign file: read the schema again below.
    }
  }
  const result = await runProcess("terraform", ["providers", "schema", "-json"], { cwd: dir, env: terraformEnv() });
  if (result.code !== 0) {
    throw new ProcessError(`terraform providers schema failed (exit ${result.code}): ${result.stderr.trim()}`, result);
  }
  const raw = JSON.parse(result.stdout) as {
    provider_schemas?: Record<string, { resource_schemas?: Record<string, { version: number; block: RawBlock }> }>;
  };
  const schemas: ProviderSchemas = {};
  for (const provider of Object.values(raw.provider_schemas ?? {})) {
    for (const [type, s] of Object.entries(provider.resource_schemas ?? {})) {
      schemas[type] = { version: s.version, block: slim(s.block) };
    }
  }
  if (cached) {
    mkdirSync(cacheDir, { recursive: true });
    // Written aside, then renamed: a reader never sees half a file.
    const partial = `${cached}.${process.pid}.partial`;
    writeFileSync(partial, JSON.stringify(schemas));
    renameSync(partial, cached);
  }
  return schemas;
}

/** The schema of an attribute path (`network_configuration`, `setting.value`) of a block, if there is one. */
export function attributeAt(block: BlockSchema, path: string[]): AttributeSchema | undefined {
  let current: BlockSchema | undefined = block;
  for (let i = 0; i < path.length && current; i++) {
    const name = path[i];
    if (i === path.length - 1) return current.attributes[name];
    current = current.blocks[name]?.block;
  }
  return undefined;
}
