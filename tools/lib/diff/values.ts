/**
 * Attribute-level differences between two values, with paths. Strings that hold
 * JSON (policy documents, container definitions in a plan) are decoded and
 * compared structurally, not as one long string. (cdktf's `${jsonencode(...)}`
 * expressions are decoded before, by `decodeExpressions` of stack/hcl.ts.)
 */

export interface AttributeChange {
  /** e.g. `container_definitions[0].environment[1].value`, `ingress[0].cidr_blocks` */
  path: string;
  old?: unknown;
  new?: unknown;
  /** The new value is known only after apply. */
  unknown?: boolean;
}

/** The structure a string encodes (a JSON object or array), else undefined. */
export function decodeString(value: string): unknown {
  const trimmed = value.trim();
  if ((trimmed.startsWith("{") && trimmed.endsWith("}")) || (trimmed.startsWith("[") && trimmed.endsWith("]"))) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const join = (path: string, key: string | number) =>
  typeof key === "number"
    ? `${path}[${key}]`
    : /^[A-Za-z_][\w]*$/.test(key)
      ? path
        ? `${path}.${key}`
        : key
      : `${path}["${key}"]`;

export function diffValues(old: unknown, next: unknown, path = ""): AttributeChange[] {
  if (typeof old === "string" && typeof next === "string" && old !== next) {
    const a = decodeString(old);
    const b = decodeString(next);
    if (a !== undefined && b !== undefined) return diffValues(a, b, path);
  }
  if (isObject(old) && isObject(next)) {
    const keys = [...new Set([...Object.keys(old), ...Object.keys(next)])].sort();
    return keys.flatMap((key) => {
      if (!(key in old)) return [{ path: join(path, key), new: next[key] }];
      if (!(key in next)) return [{ path: join(path, key), old: old[key] }];
      return diffValues(old[key], next[key], join(path, key));
    });
  }
  if (Array.isArray(old) && Array.isArray(next)) {
    // Lists of plain values (actions, CIDRs, subnets) read best whole.
    const scalar = (xs: unknown[]) => xs.every((x) => x === null || typeof x !== "object");
    if (scalar(old) && scalar(next)) {
      return JSON.stringify(old) === JSON.stringify(next) ? [] : [{ path: path || "(value)", old, new: next }];
    }
    const out: AttributeChange[] = [];
    for (let k = 0; k < Math.max(old.length, next.length); k++) {
      if (k >= old.length) out.push({ path: join(path, k), new: next[k] });
      else if (k >= next.length) out.push({ path: join(path, k), old: old[k] });
      else out.push(...diffValues(old[k], next[k], join(path, k)));
    }
    return out;
  }
  if (JSON.stringify(old) === JSON.stringify(next)) return [];
  return [{ path: path || "(value)", old, new: next }];
}
