/**
 * Colour for terminal output through `node:util`'s `styleText`: applied only
 * when the stream is a terminal that shows colour and neither NO_COLOR nor
 * NODE_DISABLE_COLORS is set (FORCE_COLOR forces it), as Node decides for its own output.
 */
import { styleText } from "node:util";

export type Style = Parameters<typeof styleText>[0];

/** `text` in `style` when `stream` shows colour, else `text` unchanged. */
export function paint(style: Style, text: string, stream: NodeJS.WritableStream = process.stdout): string {
  return styleText(style, text, { stream, validateStream: true });
}
