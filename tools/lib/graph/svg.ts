/**
 * The stack graph drawn as SVG. The Eclipse Layout Kernel (elkjs, layered
 * algorithm) places groups, nodes and edge routes; this file only paints them.
 */
import ELK, { type ElkExtendedEdge, type ElkNode } from "elkjs/lib/elk.bundled.js";
import type { StackGraph } from "./model.js";

const CHAR_WIDTH = 7.2; // 12 px monospace
const NODE_HEIGHT = 30;
const PAD = 12;

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const round = (n: number) => Math.round(n * 10) / 10;

export async function layoutGraph(graph: StackGraph): Promise<ElkNode> {
  const elk = new ELK();
  const root: ElkNode = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.layered.spacing.nodeNodeBetweenLayers": "60",
      "elk.spacing.nodeNode": "18",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.json.edgeCoords": "ROOT",
      "elk.json.shapeCoords": "ROOT",
      "elk.randomSeed": "1",
    },
    children: graph.groups.map((group) => ({
      id: `group_${group.id}`,
      labels: [{ text: group.label, width: group.label.length * CHAR_WIDTH, height: 16 }],
      layoutOptions: {
        "elk.padding": "[top=34,left=14,bottom=14,right=14]",
        "elk.nodeLabels.placement": "[H_LEFT, V_TOP, INSIDE]",
      },
      children: graph.nodes
        .filter((n) => n.group === group.id)
        .map((n) => ({ id: n.id, width: n.address.length * CHAR_WIDTH + 2 * PAD, height: NODE_HEIGHT })),
    })),
    edges: graph.edges.map((e, i): ElkExtendedEdge => ({ id: `edge_${i}`, sources: [e.from], targets: [e.to] })),
  };
  return elk.layout(root);
}

export async function renderSvg(graph: StackGraph, title: string): Promise<string> {
  const laid = await layoutGraph(graph);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const out: string[] = [];
  const width = laid.width ?? 0;
  const height = laid.height ?? 0;

  // The variables, listed apart on the right (they are inputs, not infrastructure).
  const variablesX = width + 30;
  const longest = Math.max(...graph.variables.map((v) => `var.${v.name}`.length), 24);
  const panelWidth = longest * CHAR_WIDTH + 2 * PAD;
  const panelHeight = 40 + graph.variables.length * 16;
  const totalWidth = round(variablesX + panelWidth + 10);
  const totalHeight = round(Math.max(height, panelHeight) + 50);

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalWidth}" height="${totalHeight}" viewBox="0 0 ${totalWidth} ${totalHeight}" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7280"/></marker></defs>',
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold" fill="#111827">${escapeXml(title)}</text>`,
    `<g transform="translate(0, 36)">`,
  );
  for (const group of laid.children ?? []) {
    const label = group.labels?.[0]?.text ?? "";
    out.push(
      `<g class="group" id="${group.id}"><rect x="${round(group.x ?? 0)}" y="${round(group.y ?? 0)}" width="${round(group.width ?? 0)}" height="${round(group.height ?? 0)}" rx="8" fill="#f3f4f6" stroke="#9ca3af"/>`,
      `<text x="${round((group.x ?? 0) + 12)}" y="${round((group.y ?? 0) + 20)}" font-weight="bold" fill="#374151">${escapeXml(label)}</text></g>`,
    );
  }
  for (const edge of laid.edges ?? []) {
    for (const section of (edge as ElkExtendedEdge).sections ?? []) {
      const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
      const d = points.map((p, i) => `${i === 0 ? "M" : "L"} ${round(p.x)} ${round(p.y)}`).join(" ");
      out.push(
        `<path class="edge" d="${d}" fill="none" stroke="#6b7280" stroke-width="1.2" marker-end="url(#arrow)"/>`,
      );
    }
  }
  for (const group of laid.children ?? []) {
    for (const child of group.children ?? []) {
      const node = byId.get(child.id);
      if (!node) continue;
      const x = round(child.x ?? 0);
      const y = round(child.y ?? 0);
      out.push(
        `<g class="node" data-address="${escapeXml(node.address)}"><rect x="${x}" y="${y}" width="${round(child.width ?? 0)}" height="${NODE_HEIGHT}" rx="4" fill="${node.data ? "#ffffff" : "#dbeafe"}" stroke="${node.data ? "#6b7280" : "#2563eb"}"${node.data ? ' stroke-dasharray="4 3"' : ""}/>`,
        `<text x="${round(x + PAD)}" y="${round(y + 19)}" fill="#111827">${escapeXml(node.address)}</text></g>`,
      );
    }
  }
  out.push(
    `<g class="variables"><rect x="${round(variablesX)}" y="0" width="${round(panelWidth)}" height="${panelHeight}" rx="8" fill="#fefce8" stroke="#ca8a04"/>`,
    `<text x="${round(variablesX + PAD)}" y="22" font-weight="bold" fill="#374151">Input variables (${graph.variables.length})</text>`,
    ...graph.variables.map(
      (v, i) =>
        `<text x="${round(variablesX + PAD)}" y="${42 + i * 16}" fill="#111827">var.${escapeXml(v.name)}</text>`,
    ),
    "</g>",
  );
  out.push("</g>", "</svg>");
  return `${out.join("\n")}\n`;
}
