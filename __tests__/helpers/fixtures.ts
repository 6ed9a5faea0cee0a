import { readFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURES = join(__dirname, "..", "fixtures");
export const LEGACY = join(FIXTURES, "legacy");
export const LEGACY_MODULE = join(LEGACY, "compute");
export const LEGACY_STATE = join(LEGACY, "prod.tfstate");
export const LEGACY_TFVARS = join(LEGACY, "prod.tfvars");

interface StateResource {
  mode: "managed" | "data";
  type: string;
  name: string;
  instances: { attributes: Record<string, unknown> }[];
}

export interface StateFile {
  version: number;
  resources: StateResource[];
  outputs: Record<string, { value: unknown }>;
}

export function readState(file = LEGACY_STATE): StateFile {
  return JSON.parse(readFileSync(file, "utf8")) as StateFile;
}

/** Addresses in a state, `data.` prefixed for data sources, sorted. */
export function stateAddresses(state: StateFile): string[] {
  return state.resources.map((r) => (r.mode === "data" ? `data.${r.type}.${r.name}` : `${r.type}.${r.name}`)).sort();
}
