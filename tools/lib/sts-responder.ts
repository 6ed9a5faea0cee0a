/**
 * A loopback stand-in for AWS STS that answers `GetCallerIdentity`, the one AWS
 * call a plan of this stack makes (`data.aws_caller_identity.current` is read on
 * every plan, even with `-refresh=false`). Any other request gets an error and is
 * recorded, so a test can prove that nothing else was asked.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface StsResponder {
  url: string;
  /** Actions received, in order (`GetCallerIdentity`, or whatever else was asked). */
  calls: string[];
  close(): Promise<void>;
}

export interface StsResponderOptions {
  accountId: string;
  /** Caller ARN to report. Default: `arn:aws:iam::<account>:user/offline-plan`. */
  arn?: string;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

export async function startStsResponder(options: StsResponderOptions): Promise<StsResponder> {
  const arn = options.arn ?? `arn:aws:iam::${options.accountId}:user/offline-plan`;
  const calls: string[] = [];
  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const query = new URL(request.url ?? "/", "http://localhost").search;
    const action = new URLSearchParams(body).get("Action") ?? new URLSearchParams(query).get("Action") ?? "(none)";
    calls.push(action);
    if (action !== "GetCallerIdentity") {
      response.writeHead(400, { "content-type": "text/xml" });
      response.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>offline STS answers only GetCallerIdentity, not ${action}</Message></Error><RequestId>offline</RequestId></ErrorResponse>`,
      );
      return;
    }
    response.writeHead(200, { "content-type": "text/xml" });
    response.end(
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${arn}</Arn><UserId>AIDAOFFLINEPLAN</UserId><Account>${options.accountId}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
