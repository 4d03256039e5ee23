import { once } from "node:events";
import { unlink } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { createStream, type RotatingFileStream } from "rotating-file-stream";

export interface RotatingFileOptions {
  /** The live file; rotated copies sit beside it as `<name>.1[.gz]` (newest) … `<name>.<backups>[.gz]`. */
  path: string;
  /** Rotate once the live file reaches this many bytes (`logging.max_size_mb`). */
  maxBytes: number;
  /** Rotated files kept (`logging.max_backups`); 0 keeps none. */
  maxBackups: number;
  /** Gzip rotated files (`logging.compress`). */
  compress: boolean;
  /** Where rotation problems (a full disk, a failed gzip) are told; they never stop logging. */
  warn: (message: string) => void;
}

/** A log file that rotates by size; `end()` flushes what is buffered and closes it. */
export interface RotatingFile {
  write(line: string): void;
  end(): Promise<void>;
}

/**
 * Opens `path` for appending through rotating-file-stream in its classical logrotate mode: past `maxBytes`
 * the live file becomes `<name>.1` (gzipped to `<name>.1.gz` when `compress`), older ones shift up, and only
 * `maxBackups` are kept. Writes made while a rotation runs are queued by the stream and land whole in the new
 * file, so no line is split or lost across a rotation.
 *
 * @example
 * const file = openRotatingFile({ path: "/var/log/fluxrig/fluxrig-rack.log", maxBytes: 100 * 2 ** 20,
 *   maxBackups: 7, compress: true, warn: console.warn });
 * file.write('{"level":"info","msg":"hello"}\n');
 * await file.end();
 */
export function openRotatingFile(options: RotatingFileOptions): RotatingFile {
  const name = basename(options.path);
  const suffix = options.compress ? ".gz" : "";
  const stream: RotatingFileStream = createStream(
    // In classical mode the generator gets the backup's index, or nothing for the live file.
    (index: number | Date | null) => (index ? `${name}.${String(index)}${suffix}` : name),
    {
      path: dirname(options.path),
      size: `${options.maxBytes}B`,
      // rotating-file-stream has no "keep none": keep one and remove it as soon as it is made.
      rotate: Math.max(options.maxBackups, 1),
      ...(options.compress ? { compress: "gzip" } : {}),
    },
  );
  stream.on("error", (error) => options.warn(`log file ${options.path}: ${error.message}`));
  stream.on("warning", (error) => options.warn(`log file ${options.path}: ${error.message}`));
  if (options.maxBackups === 0) {
    stream.on("rotated", (rotated: string) => void unlink(rotated).catch(() => undefined));
  }
  let ended: Promise<void> | undefined;
  return {
    write(line) {
      if (!ended) stream.write(line);
    },
    end() {
      ended ??= (async () => {
        const finished = once(stream, "finish").catch(() => undefined);
        stream.end();
        await finished;
      })();
      return ended;
    },
  };
}
