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
import { SQSClient } from "@aws-sdk/client-sqs";
import { runCommand, wholeNumber } from "./lib/cli/command.js";
import { UsageError } from "./lib/cli/errors.js";
import { queueArn, replay } from "./lib/sqs/dlq.js";

/** The option's value if it is a queue URL (…/<account id>/<queue name>), else a UsageError naming the option. */
function queueUrl(option: string, value: string): string {
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

runCommand({
  name: "dlq:replay",
  summary:
    "Replays analysis jobs from the dead-letter queue to the analysis queue. A message leaves the dead-letter queue only after the target queue accepted it. Credentials come from the AWS SDK's default chain; --endpoint-url (or AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL) points at an emulator.",
  usage: ["--dlq-url <url> --queue-url <url> [--max N] [--dry-run] [--endpoint-url <url>] [--region <region>]"],
  options: {
    "dlq-url": { type: "string", value: "url", required: true, help: "The dead-letter queue's URL." },
    "queue-url": { type: "string", value: "url", required: true, help: "The queue to move the messages to." },
    max: { type: "string", value: "N", help: "Move at most N messages. Default: all." },
    "dry-run": { type: "boolean", help: "List what would move; move nothing." },
    "endpoint-url": { type: "string", value: "url", help: "Send SQS requests here (an emulator) instead of AWS." },
    region: { type: "string", help: "The queues' region. Default: AWS_REGION, or the region in the queue URL." },
  },
  details: "Exit 0 when everything asked for moved (or would, with --dry-run), 1 otherwise.",
  async run(options) {
    const dlqUrl = queueUrl("--dlq-url", options["dlq-url"]);
    const targetUrl = queueUrl("--queue-url", options["queue-url"]);
    if (dlqUrl === targetUrl) throw new UsageError("--dlq-url and --queue-url are the same queue");
    const max = options.max === undefined ? undefined : wholeNumber("max", options.max, 1);
    const region = options.region ?? process.env.AWS_REGION ?? regionOf(dlqUrl);
    if (!region) throw new UsageError("no region: pass --region or set AWS_REGION");
    const endpoint = options["endpoint-url"] ?? process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL;
    const sqs = new SQSClient({ region, ...(endpoint ? { endpoint } : {}) });
    try {
      await queueArn(sqs, dlqUrl, "--dlq-url");
      await queueArn(sqs, targetUrl, "--queue-url");
      const dryRun = options["dry-run"];
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
  },
});
