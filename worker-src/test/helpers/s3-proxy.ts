/**
 * A loopback HTTP proxy in front of an S3 endpoint (moto's server) that misbehaves on
 * chosen requests, as a real network and S3 can: answer an error status, forward the
 * request but lose the answer (the object is stored, the client never hears), or hold
 * the request without ever forwarding it. Rules match "METHOD /bucket/key?query".
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { waitFor } from "./emulator.js";

export interface ProxyRule {
  match: RegExp;
  /** Answer this status with an S3 error document (the request never reaches S3). */
  status?: number;
  /** Forward the request, then close the connection instead of passing the answer on. */
  dropAnswer?: boolean;
  /** Hold the request: never forwarded, never answered (until the client gives up). */
  hold?: boolean;
  /** How many matching requests the rule applies to; unlimited when unset. */
  times?: number;
  /** Requests the rule has applied to so far. */
  hits: number;
}

export interface S3Proxy {
  endpoint: string;
  rule(rule: Omit<ProxyRule, "hits">): ProxyRule;
  /** Resolves once the rule has applied to `count` requests. */
  hit(rule: ProxyRule, count?: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startS3Proxy(target: string): Promise<S3Proxy> {
  const rules: ProxyRule[] = [];
  const server = createServer((req, res) => {
    const line = `${req.method} ${req.url}`;
    const rule = rules.find((r) => r.match.test(line) && (r.times === undefined || r.hits < r.times));
    if (rule) rule.hits++;
    if (rule?.hold) return;
    if (rule?.status) {
      req.resume();
      res.writeHead(rule.status, { "content-type": "application/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${rule.status === 503 ? "SlowDown" : "InternalError"}</Code><Message>test proxy</Message></Error>`,
      );
      return;
    }
    const upstream = request(
      new URL(req.url ?? "/", target),
      { method: req.method, headers: req.headers },
      (answer) => {
        if (rule?.dropAnswer) {
          // S3 did it; the client never hears.
          answer.resume();
          answer.on("end", () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rule(rule) {
      const added = { ...rule, hits: 0 };
      rules.push(added);
      return added;
    },
    hit: (rule, count = 1, timeoutMs = 30_000) =>
      waitFor(() => rule.hits >= count, timeoutMs, `${count} request(s) matching ${rule.match}`).then(() => {}),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
