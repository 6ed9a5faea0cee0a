/**
 * Proposed moves: an address that goes away and one that appears, of the same
 * resource type, that are likely one object under a new name. Terraform would
 * destroy the one and create the other unless a `moved` block (cdktf:
 * `moveFromId`) keeps the object. One heuristic for the diff (two synths) and
 * the state check (a state against a synth):
 *
 * - only addresses of the same mode and type pair up, each at most once;
 * - pairs rank by the share of attributes with equal values, where both sides
 *   give attributes (two synths), then by how alike the two names are (shared
 *   letter pairs: `analysis_worker` is closer to `worker` than to `api_service`);
 * - a pair is proposed when half its attributes or more are alike, when there
 *   are no attributes to compare (a state's values against a configuration's
 *   expressions: the closest names pair), or when it is the only address of its
 *   type on each side.
 */

export interface MoveCandidate {
  address: string;
  mode: "managed" | "data";
  type: string;
  /** The attributes, where they can be compared with the other side's (both from a synth). */
  attributes?: Record<string, unknown>;
}

export interface Move {
  from: string;
  to: string;
  type: string;
}

/** How alike two names are: the Dice coefficient of their letter pairs (1 the same, 0 nothing shared). */
function nameLikeness(a: string, b: string): number {
  if (a === b) return 1;
  const pairs = (s: string) => Array.from({ length: Math.max(s.length - 1, 0) }, (_, i) => s.slice(i, i + 2));
  const left = pairs(a);
  const right = pairs(b);
  if (left.length + right.length === 0) return 0;
  const pool = [...right];
  let shared = 0;
  for (const pair of left) {
    const at = pool.indexOf(pair);
    if (at >= 0) {
      shared++;
      pool.splice(at, 1);
    }
  }
  return (2 * shared) / (left.length + right.length);
}

/** The name in an address: `worker` of `aws_ecs_service.worker`. */
const nameOf = (address: string) => address.split(".").at(-1) ?? address;

/** Share of attributes (of either side) whose values are equal; undefined when a side has none to compare. */
function similarity(a: MoveCandidate, b: MoveCandidate): number | undefined {
  if (!a.attributes || !b.attributes) return undefined;
  const keys = new Set([...Object.keys(a.attributes), ...Object.keys(b.attributes)]);
  if (keys.size === 0) return 1;
  let same = 0;
  for (const key of keys) {
    if (JSON.stringify(a.attributes[key]) === JSON.stringify(b.attributes[key])) same++;
  }
  return same / keys.size;
}

export function proposeMoves(removed: MoveCandidate[], added: MoveCandidate[]): Move[] {
  const kind = (c: MoveCandidate) => `${c.mode} ${c.type}`;
  const count = (list: MoveCandidate[], k: string) => list.filter((c) => kind(c) === k).length;
  const pairs = removed
    .flatMap((from) =>
      added
        .filter((to) => kind(to) === kind(from))
        .map((to) => ({
          from,
          to,
          alike: similarity(from, to),
          names: nameLikeness(nameOf(from.address), nameOf(to.address)),
        })),
    )
    .sort((x, y) => (y.alike ?? 0) - (x.alike ?? 0) || y.names - x.names);
  const usedFrom = new Set<string>();
  const usedTo = new Set<string>();
  const moves: Move[] = [];
  for (const { from, to, alike } of pairs) {
    if (usedFrom.has(from.address) || usedTo.has(to.address)) continue;
    const onlyOfItsType = count(removed, kind(from)) === 1 && count(added, kind(from)) === 1;
    if (alike !== undefined && alike < 0.5 && !onlyOfItsType) continue;
    usedFrom.add(from.address);
    usedTo.add(to.address);
    moves.push({ from: from.address, to: to.address, type: from.type });
  }
  return moves.sort((x, y) => x.from.localeCompare(y.from));
}
