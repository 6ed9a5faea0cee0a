/**
 * References in a synthesized stack (Terraform's JSON syntax): the `${ ... }`
 * interpolations of its strings, and what they name: variables, locals, data
 * sources, managed resources, each as the address Terraform gives it
 * (`var.project_name`, `local.name`, `data.aws_iam_policy_document.task`,
 * `aws_ecs_cluster.main`). Text outside an interpolation is a literal.
 */

/** `${ ... }` interpolations of a template string: [start, end) of each, braces and quoted strings balanced. */
export function interpolations(text: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf("${", i);
    if (at < 0) break;
    if (at > 0 && text[at - 1] === "$") {
      i = at + 2; // $${ is a literal ${
      continue;
    }
    let depth = 0;
    let quoted = false;
    let j = at + 1;
    for (; j < text.length; j++) {
      const c = text[j];
      if (quoted) {
        if (c === "\\") j++;
        else if (c === '"') quoted = false;
        continue;
      }
      if (c === '"') quoted = true;
      else if (c === "{") depth++;
      else if (c === "}") {
        depth--;
        if (depth === 0) break;
      }
    }
    if (j >= text.length) break;
    out.push({ start: at, end: j + 1 });
    i = j + 1;
  }
  return out;
}

const NAMED = /(?<![\w.-])(var|local)\.([A-Za-z_][\w-]*)/g;
const DATA = /(?<![\w.-])data\.([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)/g;
const MANAGED = /(?<![\w.-])([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z_][\w-]*)/g;

/**
 * The addresses a value refers to, in any of its strings' interpolations: `var.x`, `local.x`,
 * `data.type.name`, `type.name` (a managed resource: only the types of `managedTypes` count, so
 * that function names and the like are not taken for resources).
 */
export function referencesIn(value: unknown, managedTypes: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === "string") {
      for (const { start, end } of interpolations(v)) {
        const expression = v.slice(start + 2, end - 1);
        for (const m of expression.matchAll(NAMED)) found.add(`${m[1]}.${m[2]}`);
        for (const m of expression.matchAll(DATA)) found.add(`data.${m[1]}.${m[2]}`);
        for (const m of expression.matchAll(MANAGED)) if (managedTypes.has(m[1])) found.add(`${m[1]}.${m[2]}`);
      }
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
  return found;
}
