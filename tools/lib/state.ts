/**
 * A Terraform state (v4, as `terraform state pull` writes it) against a
 * synthesized stack: which objects the configuration keeps, which it would
 * destroy or create, and the moves that would keep an object under a new address.
 */
import { existsSync, readFileSync } from "node:fs";
import { elements, type StackJson, UsageError } from "./stack-json.js";

export interface StateResource {
  module?: string;
  mode: "managed" | "data";
  type: string;
  name: string;
  instances: { index_key?: string | number; attributes?: Record<string, unknown> }[];
}

export interface StateFile {
  version: number;
  terraform_version?: string;
  serial?: number;
  lineage?: string;
  resources: StateResource[];
  outputs?: Record<string, unknown>;
}

export function readStateFile(path: string): StateFile {
  if (!existsSync(path)) throw new UsageError(`${path} does not exist`);
  let state: StateFile;
  try {
    state = JSON.parse(readFileSync(path, "utf8")) as StateFile;
  } catch (error) {
    throw new UsageError(`${path} is not JSON: ${(error as Error).message}`);
  }
  if (state?.version !== 4 || !Array.isArray(state.resources)) {
    throw new UsageError(
      `${path} is not a Terraform state of format version 4 (${state?.version === undefined ? "it has no version" : `found version ${JSON.stringify(state.version)}`}): give what \`terraform state pull\` writes`,
    );
  }
  return state;
}

export const stateAddress = (r: StateResource) =>
  `${r.module ? `${r.module}.` : ""}${r.mode === "data" ? "data." : ""}${r.type}.${r.name}`;

export interface Move {
  from: string;
  to: string;
  type: string;
  /** Construct path of the resource at `to`, where the moveFromId call goes. */
  constructPath?: string;
}

export interface Coverage {
  /** Managed addresses in the state that the configuration also has. */
  kept: string[];
  /** In the state, not in the configuration: Terraform would destroy them. */
  destroyed: string[];
  /** A state address whose name the configuration uses with another type. */
  typeMismatches: { state: string; configuration: string }[];
  /** In the configuration, not in the state. */
  created: string[];
  /** Data sources only in the state: read again at the next plan, never destroyed. */
  staleData: string[];
  moves: Move[];
  covered: boolean;
}

/** Edit distance, for pairing a destroyed address with a created one of the same type. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

export function coverage(state: StateFile, stack: StackJson): Coverage {
  const configured = elements(stack);
  const managedConfig = [...configured.values()].filter((e) => e.mode === "managed");
  const inState = new Set(state.resources.map(stateAddress));

  const kept: string[] = [];
  const destroyed: string[] = [];
  const staleData: string[] = [];
  for (const resource of state.resources) {
    const address = stateAddress(resource);
    if (configured.has(address)) {
      if (resource.mode === "managed") kept.push(address);
    } else if (resource.mode === "data") staleData.push(address);
    else destroyed.push(address);
  }
  const created = managedConfig.map((e) => e.address).filter((a) => !inState.has(a));

  const typeMismatches = destroyed.flatMap((address) => {
    const resource = state.resources.find((r) => stateAddress(r) === address) as StateResource;
    const other = managedConfig.find(
      (e) => e.name === resource.name && e.type !== resource.type && !inState.has(e.address),
    );
    return other ? [{ state: address, configuration: other.address }] : [];
  });

  // Pair destroyed and created addresses of one type, closest names first.
  const moves: Move[] = [];
  const freeCreated = new Set(created);
  const candidates = destroyed
    .flatMap((from) => {
      const type = state.resources.find((r) => stateAddress(r) === from)?.type as string;
      return created
        .filter((to) => configured.get(to)?.type === type)
        .map((to) => ({ from, to, type, d: distance(from, to) }));
    })
    .sort((x, y) => x.d - y.d);
  const movedFrom = new Set<string>();
  for (const c of candidates) {
    if (movedFrom.has(c.from) || !freeCreated.has(c.to)) continue;
    movedFrom.add(c.from);
    freeCreated.delete(c.to);
    moves.push({ from: c.from, to: c.to, type: c.type, constructPath: configured.get(c.to)?.path });
  }

  return {
    kept: kept.sort(),
    destroyed: destroyed.sort(),
    typeMismatches,
    created: created.sort(),
    staleData: staleData.sort(),
    moves: moves.sort((x, y) => x.from.localeCompare(y.from)),
    covered: destroyed.length === 0,
  };
}
