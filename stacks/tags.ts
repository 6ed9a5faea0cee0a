import { Fn, Token } from "cdktf";

/** `merge(<base tags>, { Component = "<component>" })`, as a tags map. */
export function componentTags(base: { [key: string]: string }, component: string): { [key: string]: string } {
  return Token.asStringMap(Fn.merge([base, { Component: component }]));
}
