/**
 * The videos bucket: read uploaded videos, write analysis outputs.
 * Each output is one PutObject, which S3 makes visible whole or not at all, so a
 * reader never sees a partial object. A job's claim (outcome.json) is written only
 * if it does not exist yet (If-None-Match: *; S3 answers 412 otherwise), so the
 * first delivery to finish decides the job's one outcome and it never changes.
 */
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { PermanentJobError } from "./errors.js";

export interface DownloadProgress {
  bytes: number;
  totalBytes?: number;
}

/** The key does not exist. A missing bucket is not this: it is a configuration error, retried. */
function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name === "NoSuchBucket") return false;
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}

function isPreconditionFailed(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "PreconditionFailed" || e?.$metadata?.httpStatusCode === 412;
}

/**
 * S3 refused a call (403). S3 may answer without a body (a HEAD, a denied KMS key, a
 * proxy), which the SDK reports as "UnknownError": this says what was denied, on which
 * key, and what usually causes it. Still a transient failure (a fixed policy cures it);
 * `isAccessDenied` knows it.
 */
export class S3AccessDeniedError extends Error {
  override name = "AccessDenied";
  readonly $metadata = { httpStatusCode: 403 };
  constructor(operation: string, bucket: string, key: string, cause: unknown) {
    const e = cause as { name?: string; message?: string; Code?: string };
    const code = [e?.Code, e?.name].find((c) => c && !/^(?:\d+|UnknownError|Unknown|Error)$/.test(c)) ?? "AccessDenied";
    const detail = e?.message && !/^(?:UnknownError|Unknown|403)?$/i.test(e.message.trim()) ? `: ${e.message}` : "";
    super(
      `S3 denied ${operation} on s3://${bucket}/${key} (403 ${code}${detail}); check the task role's IAM policy, ` +
        "the bucket policy and, for an encrypted bucket, the KMS key policy",
      { cause },
    );
  }
}

function isForbidden(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.$metadata?.httpStatusCode === 403 || e?.name === "AccessDenied" || e?.Code === "AccessDenied";
}

/** The answer to a write made only if the key is absent. */
export interface ConditionalPut {
  /** This request created the object. */
  created: boolean;
  /**
   * The SDK sent the request more than once (a timeout, a lost answer): a 412 then may
   * answer this request's own first try, which landed.
   */
  retried: boolean;
}

export class VideoStorage {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  /** Runs one S3 call; a 403 becomes an S3AccessDeniedError naming the operation and the key. */
  private async guard<T>(operation: string, key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (isForbidden(error)) throw new S3AccessDeniedError(operation, this.bucket, key, error);
      throw error;
    }
  }

  async exists(key: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.guard("HeadObject", key, () =>
        this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal }),
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** The parsed JSON document at `key`, or undefined when there is none. */
  async readJson<T>(key: string, signal?: AbortSignal): Promise<T | undefined> {
    let out: GetObjectCommandOutput;
    try {
      out = await this.guard("GetObject", key, () =>
        this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal }),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return JSON.parse(await (out.Body as { transformToString(): Promise<string> }).transformToString()) as T;
  }

  /** Deletes an object (S3 answers success for a missing key too). */
  async delete(key: string, signal?: AbortSignal): Promise<void> {
    await this.guard("DeleteObject", key, () =>
      this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal }),
    );
  }

  /** Streams an object to a file; a missing key is a PermanentJobError. */
  async download(
    key: string,
    file: string,
    signal: AbortSignal,
    onProgress: (progress: DownloadProgress) => void = () => {},
  ): Promise<number> {
    let out: GetObjectCommandOutput;
    try {
      out = await this.guard("GetObject", key, () =>
        this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal }),
      );
    } catch (error) {
      if (isNotFound(error)) {
        throw new PermanentJobError("video-not-found", `s3://${this.bucket}/${key} does not exist`, { cause: error });
      }
      throw error;
    }
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        onProgress({ bytes, totalBytes: out.ContentLength });
        callback(null, chunk);
      },
    });
    await pipeline(out.Body as NodeJS.ReadableStream, counter, createWriteStream(file), { signal });
    return bytes;
  }

  async putFile(key: string, file: string, contentType: string, signal?: AbortSignal): Promise<void> {
    const body = await readFile(file);
    await this.guard("PutObject", key, () =>
      this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }), {
        abortSignal: signal,
      }),
    );
  }

  /**
   * Writes a JSON document. With `onlyIfAbsent`, the write is conditional
   * (If-None-Match: *) and returns false when the object already exists.
   */
  async putJson(key: string, value: unknown, options: { onlyIfAbsent?: boolean; signal?: AbortSignal } = {}) {
    if (options.onlyIfAbsent) return (await this.putJsonIfAbsent(key, value, options.signal)).created;
    await this.guard("PutObject", key, () =>
      this.s3.send(this.jsonPut(key, value, false), { abortSignal: options.signal }),
    );
    return true;
  }

  /** Writes a JSON document only if the key is absent (If-None-Match: *; S3 answers 412 otherwise). */
  async putJsonIfAbsent(key: string, value: unknown, signal?: AbortSignal): Promise<ConditionalPut> {
    try {
      await this.guard("PutObject", key, () => this.s3.send(this.jsonPut(key, value, true), { abortSignal: signal }));
      return { created: true, retried: false };
    } catch (error) {
      if (!isPreconditionFailed(error)) throw error;
      const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      return { created: false, retried: attempts > 1 };
    }
  }

  private jsonPut(key: string, value: unknown, onlyIfAbsent: boolean) {
    return new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      Body: `${JSON.stringify(value, null, 2)}\n`,
      ContentType: "application/json",
      ...(onlyIfAbsent ? { IfNoneMatch: "*" } : {}),
    });
  }
}
