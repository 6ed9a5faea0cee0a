import { Fn, Token } from "cdktf";

/**
 * Resource tags, tag name → value: the type of every construct's `tags` prop and
 * of the common tags (`local.common_tags`).
 */
export type Tags = { readonly [name: string]: string };

/**
 * The base tags plus `Component = <component>`: for a Terraform map (such as
 * `local.common_tags`) the expression `merge(<base>, { Component = "<component>" })`,
 * for a plain map a plain map.
 */
export function componentTags(base: Tags, component: string): Tags {
  if (!Token.isUnresolved(base)) return { ...base, Component: component };
  return Token.asStringMap(Fn.merge([base, { Component: component }]));
}
