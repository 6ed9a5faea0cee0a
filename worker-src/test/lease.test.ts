import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Lease } from "../src/lease.js";
import { memoryLogger } from "./helpers/memory-log.js";

/** A fake SQS client (unit test): records calls; a call can be held open. */
function fakeSqs() {
  const calls: { name: string; input: Record<string, unknown>; at: number }[] = [];
  let hold: Promise<void> | undefined;
  const client = {
    send: vi.fn(async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      calls.push({ name: command.constructor.name, input: command.input, at: Date.now() });
      if (hold) await hold;
      return {};
    }),
  };
  return {
    client: client as unknown as SQSClient,
    calls,
    holdNext() {
      let release = () => {};
      hold = new Promise<void>((resolve) => {
        release = () => {
          hold = undefined;
          resolve();
        };
      });
      return release;
    },
  };
}

const HOUR = 3600_000;

describe("Lease", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const lease = (sqs: ReturnType<typeof fakeSqs>, extra: Partial<ConstructorParameters<typeof Lease>[0]> = {}) =>
    new Lease({
      sqs: sqs.client,
      queueUrl: "http://q",
      receiptHandle: "rh-1",
      visibilityTimeoutS: 30,
      receivedAt: 0,
      log: memoryLogger().log,
      onLost: () => {},
      ...extra,
    });

  it("extends the visibility timeout every third of it while the job runs", async () => {
    const sqs = fakeSqs();
    const held = lease(sqs);
    held.start();
    await vi.advanceTimersByTimeAsync(35_000);
    expect(sqs.calls.map((c) => [c.name, c.input.VisibilityTimeout, c.at])).toEqual([
      ["ChangeMessageVisibilityCommand", 30, 10_000],
      ["ChangeMessageVisibilityCommand", 30, 20_000],
      ["ChangeMessageVisibilityCommand", 30, 30_000],
    ]);
    await held.stop();
  });

  it("never lets a heartbeat race the delete: delete waits for the heartbeat in flight, none follows", async () => {
    const sqs = fakeSqs();
    const held = lease(sqs);
    held.start();
    const release = sqs.holdNext();
    await vi.advanceTimersByTimeAsync(10_000); // heartbeat sent, its answer held
    const deleting = held.delete();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sqs.calls.map((c) => c.name)).toEqual(["ChangeMessageVisibilityCommand"]);
    release();
    await deleting;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sqs.calls.map((c) => c.name)).toEqual(["ChangeMessageVisibilityCommand", "DeleteMessageCommand"]);
    expect(sqs.calls[1].input).toEqual({ QueueUrl: "http://q", ReceiptHandle: "rh-1" });
  });

  it("respects SQS's 12-hour cap: shorter extensions near it, none past it", async () => {
    const sqs = fakeSqs();
    const { log, lines } = memoryLogger();
    // Received 12 h minus 90 s ago: 30 s left below the cap (60 s margin).
    vi.setSystemTime(12 * HOUR - 90_000 - 10_000);
    const held = lease(sqs, { receivedAt: 0, log });
    held.start();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(sqs.calls.map((c) => c.input.VisibilityTimeout)).toEqual([30, 20, 10]);
    expect(lines.map((l) => l.msg)).toContain("visibility cap of 12 hours reached; no more heartbeats");
    await held.release(900);
    expect(sqs.calls[3]).toMatchObject({ name: "ChangeMessageVisibilityCommand", input: { VisibilityTimeout: 0 } });
  });

  it("gives the job up when SQS refuses the receipt handle", async () => {
    const sqs = fakeSqs();
    const lost = vi.fn();
    vi.mocked(sqs.client.send as ReturnType<typeof vi.fn>).mockRejectedValueOnce(
      Object.assign(new Error("The receipt handle has expired"), { name: "ReceiptHandleIsInvalid" }),
    );
    const held = lease(sqs, { onLost: lost });
    held.start();
    await vi.advanceTimersByTimeAsync(40_000);
    expect(lost).toHaveBeenCalledOnce();
    expect(sqs.client.send).toHaveBeenCalledOnce();
  });

  it("keeps beating after a transient heartbeat failure", async () => {
    const sqs = fakeSqs();
    vi.mocked(sqs.client.send as ReturnType<typeof vi.fn>).mockRejectedValueOnce(
      Object.assign(new Error("socket hang up"), { name: "TimeoutError" }),
    );
    const held = lease(sqs);
    held.start();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(sqs.client.send).toHaveBeenCalledTimes(2);
    await held.stop();
  });
});
