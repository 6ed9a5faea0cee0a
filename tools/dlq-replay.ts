/**
 * Replays analysis jobs from the dead-letter queue to the analysis queue.
 *
 *   npm run -s dlq:replay -- --dlq-url <url> --queue-url <url> [--max N] [--dry-run]
 *                            [--endpoint-url <url>] [--region <region>]
 *
 * A message leaves the dead-letter queue only after the target queue accepted
 * it. Credentials come from the AWS SDK's default chain; --endpoint-url (or
 * AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL) points at an emulator, and then the
 * client sends there, not to the queue URL's host. Exit 0 when everything asked
 * for moved (or would, with --dry-run), 1 otherwise.
 */
import { parseArgs } from "node:util";
import { SQSClient } from "@aws-sdk/client-sqs";
import { runCli } from "./lib/cli.js";
import { queueArn, replay } from "./lib/dlq.js";
import { UsageError } from "./lib/stack-json.js";

const USAGE =
  "usage: npm run -s dlq:replay -- --dlq-url <url> --queue-url <url> [--max N] [--dry-run] [--endpoint-url <url>] [--region <region>]";

function queueUrl(option: string, value: string | undefined): string {
  if (!value) throw new UsageError(`${option} is required; ${USAGE}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `${option} must be a queue URL such as https://sqs.us-east-2.amazonaws.com/123456789012/name, got "${value}"`,
    );
  }
  if (url.pathname.split("/").filter(Boolean).length !== 2) {
    throw new UsageError(`${option} must be a queue URL ending in /<account id>/<queue name>, got "${value}"`);
  }
  return value;
}

/** The region of a queue URL host such as sqs.us-east-2.amazonaws.com. */
const regionOf = (url: string) => /^sqs\.([a-z0-9-]+)\./.exec(new URL(url).hostname)?.[1];

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "dlq-url": { type: "string" },
      "queue-url": { type: "string" },
      max: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      "endpoint-url": { type: "string" },
      region: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"; ${USAGE}`);
  const dlqUrl = queueUrl("--dlq-url", values["dlq-url"]);
  const targetUrl = queueUrl("--queue-url", values["queue-url"]);
  if (dlqUrl === targetUrl) throw new UsageError("--dlq-url and --queue-url are the same queue");
  let max: number | undefined;
  if (values.max !== undefined) {
    max = Number(values.max);
    if (!Number.isInteger(max) || max < 1)
      throw new UsageError(`--max must be a whole number >= 1, got "${values.max}"`);
  }
  const region = values.region ?? process.env.AWS_REGION ?? regionOf(dlqUrl);
  if (!region) throw new UsageError("no region: pass --region or set AWS_REGION");
  const endpoint = values["endpoint-url"] ?? process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL;
  const sqs = new SQSClient({ region, ...(endpoint ? { endpoint } : {}) });
  try {
    try {
      await queueArn(sqs, dlqUrl, "--dlq-url");
      await queueArn(sqs, targetUrl, "--queue-url");
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const dryRun = values["dry-run"] === true;
    const result = await replay({
      sqs,
      dlqUrl,
      queueUrl: targetUrl,
      max,
      dryRun,
      onMessage: (e) => {
        const body = e.body.length > 120 ? `${e.body.slice(0, 119)}…` : e.body;
        const reason = e.reason ? ` (${e.reason})` : "";
        console.log(`${e.outcome.padEnd(13)} ${e.messageId}  receives=${e.receiveCount}  ${body}${reason}`);
      },
    });
    if (dryRun) {
      console.log(`dry run: ${result.wouldMove} message(s) would move from ${dlqUrl} to ${targetUrl}; nothing moved`);
      return 0;
    }
    console.log(
      `moved ${result.moved} message(s) from ${dlqUrl} to ${targetUrl}` +
        (result.sendFailed ? `; ${result.sendFailed} could not be sent and stay in the dead-letter queue` : "") +
        (result.deleteFailed ? `; ${result.deleteFailed} were sent but not deleted (a rerun sends them again)` : ""),
    );
    return result.sendFailed || result.deleteFailed ? 1 : 0;
  } finally {
    sqs.destroy();
  }
}

runCli("dlq:replay", main);
