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

export class VideoStorage {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async exists(key: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
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
      out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return JSON.parse(await (out.Body as { transformToString(): Promise<string> }).transformToString()) as T;
  }

  /** Deletes an object (S3 answers success for a missing key too). */
  async delete(key: string, signal?: AbortSignal): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
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
      out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
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
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: await readFile(file), ContentType: contentType }),
      { abortSignal: signal },
    );
  }

  /**
   * Writes a JSON document. With `onlyIfAbsent`, the write is conditional
   * (If-None-Match: *) and returns false when the object already exists.
   */
  async putJson(key: string, value: unknown, options: { onlyIfAbsent?: boolean; signal?: AbortSignal } = {}) {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: `${JSON.stringify(value, null, 2)}\n`,
          ContentType: "application/json",
          ...(options.onlyIfAbsent ? { IfNoneMatch: "*" } : {}),
        }),
        { abortSignal: options.signal },
      );
      return true;
    } catch (error) {
      if (options.onlyIfAbsent && isPreconditionFailed(error)) return false;
      throw error;
    }
  }
}
