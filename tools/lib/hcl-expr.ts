/**
 * Reads the HCL expressions that cdktf writes for `Fn.jsonencode(...)`, e.g.
 * `${jsonencode([{"name" = "worker", "image" = var.worker_image}])}`, as plain
 * values, so that container definitions and policies can be compared
 * structurally. References and function calls stay opaque strings: `${var.x}`.
 */

export class HclParseError extends Error {}

/** The value inside `${jsonencode(...)}`, or undefined when the string is something else. */
export function decodeJsonencode(text: string): unknown {
  const match = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(text.trim());
  if (!match) return undefined;
  try {
    return parseHclValue(match[1]);
  } catch (error) {
    if (error instanceof HclParseError) return undefined;
    throw error;
  }
}

export function parseHclValue(source: string): unknown {
  let i = 0;
  const skip = () => {
    while (i < source.length && /[\s]/.test(source[i])) i++;
  };
  const fail = (what: string): never => {
    throw new HclParseError(`${what} at ${i}: ${source.slice(i, i + 30)}`);
  };

  const string = (): string => {
    i++; // opening quote
    let out = "";
    while (i < source.length && source[i] !== '"') {
      if (source[i] === "\\") {
        const next = source[i + 1];
        const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };
        if (next === "u") {
          out += String.fromCharCode(Number.parseInt(source.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          out += escapes[next] ?? next;
          i += 2;
        }
      } else if (source.startsWith("${", i)) {
        // an interpolation inside a string stays as written
        const end = matching(i + 1);
        out += source.slice(i, end + 1);
        i = end + 1;
      } else {
        out += source[i++];
      }
    }
    if (source[i] !== '"') fail("unterminated string");
    i++;
    return out;
  };

  /** Index of the bracket closing the one at `open`, skipping strings. */
  const matching = (open: number): number => {
    const pairs: Record<string, string> = { "{": "}", "[": "]", "(": ")" };
    const stack = [pairs[source[open]]];
    let j = open + 1;
    while (j < source.length && stack.length) {
      const c = source[j];
      if (c === '"') {
        j++;
        while (j < source.length && source[j] !== '"') j += source[j] === "\\" ? 2 : 1;
      } else if (pairs[c]) stack.push(pairs[c]);
      else if (c === stack.at(-1)) stack.pop();
      j++;
    }
    if (stack.length) fail("unbalanced brackets");
    return j - 1;
  };

  /** A reference or call, up to the next delimiter at depth 0: kept as `${...}`. */
  const opaque = (): string => {
    const start = i;
    while (i < source.length && !/[,}\]\n]/.test(source[i])) {
      if ("{[(".includes(source[i])) i = matching(i) + 1;
      else if (source[i] === '"') string();
      else i++;
    }
    const raw = source.slice(start, i).trim();
    if (!raw) fail("expected a value");
    return `\${${raw}}`;
  };

  const value = (): unknown => {
    skip();
    const c = source[i];
    if (c === "{") {
      i++;
      const out: Record<string, unknown> = {};
      for (;;) {
        skip();
        if (source[i] === "}") {
          i++;
          return out;
        }
        let key: string;
        if (source[i] === '"') key = string();
        else {
          const m = /^[A-Za-z_][\w-]*/.exec(source.slice(i));
          if (!m) fail("expected a key");
          key = (m as RegExpExecArray)[0];
          i += key.length;
        }
        skip();
        if (source[i] !== "=" && source[i] !== ":") fail("expected = after a key");
        i++;
        out[key] = value();
        skip();
        if (source[i] === ",") i++;
      }
    }
    if (c === "[") {
      i++;
      const out: unknown[] = [];
      for (;;) {
        skip();
        if (source[i] === "]") {
          i++;
          return out;
        }
        out.push(value());
        skip();
        if (source[i] === ",") i++;
      }
    }
    if (c === '"') return string();
    const literal = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)(?=[\s,}\]]|$)/.exec(source.slice(i));
    if (literal) {
      i += literal[0].length;
      return JSON.parse(literal[0]);
    }
    return opaque();
  };

  const result = value();
  skip();
  if (i !== source.length) fail("unexpected text after the value");
  return result;
}
