/**
 * A Terraform state against a synthesized stack: which objects the
 * configuration keeps, which it would destroy or create, and the moves that
 * would keep an object under a new address.
 */
import { proposeMoves } from "../stack/moves.js";
import { elements, type StackJson } from "../stack/read.js";
import { type StateFile, type StateResource, stateAddress } from "./read.js";

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

export function coverage(state: StateFile, stack: StackJson): Coverage {
  const configured = elements(stack);
  const managedConfig = [...configured.values()].filter((e) => e.mode === "managed");
  const inState = new Set(state.resources.map(stateAddress));

  const kept: string[] = [];
  const destroyed: StateResource[] = [];
  const staleData: string[] = [];
  for (const resource of state.resources) {
    const address = stateAddress(resource);
    if (configured.has(address)) {
      if (resource.mode === "managed") kept.push(address);
    } else if (resource.mode === "data") staleData.push(address);
    else destroyed.push(resource);
  }
  const created = managedConfig.filter((e) => !inState.has(e.address));

  const typeMismatches = destroyed.flatMap((resource) => {
    const other = managedConfig.find(
      (e) => e.name === resource.name && e.type !== resource.type && !inState.has(e.address),
    );
    return other ? [{ state: stateAddress(resource), configuration: other.address }] : [];
  });

  // A state's attribute values cannot be compared with the configuration's expressions: names decide.
  const moves = proposeMoves(
    destroyed.map((r) => ({ address: stateAddress(r), mode: r.mode, type: r.type })),
    created.map((e) => ({ address: e.address, mode: e.mode, type: e.type })),
  ).map((m) => ({ ...m, constructPath: configured.get(m.to)?.path }));

  return {
    kept: kept.sort(),
    destroyed: destroyed.map(stateAddress).sort(),
    typeMismatches,
    created: created.map((e) => e.address).sort(),
    staleData: staleData.sort(),
    moves,
    covered: destroyed.length === 0,
  };
}
