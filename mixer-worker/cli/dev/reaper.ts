import { spawn } from "node:child_process";

/**
 * Takes the launcher's children down when the launcher dies without cleaning up (SIGKILL, a crash, a closed
 * terminal), when no `exit` handler of ours runs. A tiny `sh` in its own process group holds the read end of
 * a pipe from us; the kernel closes our end whatever way we die, its `read` sees end of file, and it signals
 * what we told it to. Linux's parent-death signal would cover only direct children, not the workerd that
 * wrangler starts, so the reaper signals whole process groups.
 */
export interface Reaper {
  /**
   * Signals `pid` (a process group when `group`) with `signal` should the launcher die. Announce a process as
   * soon as it is spawned.
   */
  watch(pid: number, options: { group: boolean; signal: "INT" | "KILL" }): void;
  /** The launcher stopped everything itself: the reaper exits without signalling anything. */
  release(): void;
}

// Collects "SIGNAL TARGET" lines; "done" means a clean stop. End of file without "done" means we died.
const SCRIPT = `
set --
while read -r line; do
  [ "$line" = done ] && exit 0
  set -- "$@" "$line"
done
for entry in "$@"; do kill -s \${entry%% *} -- \${entry#* } 2>/dev/null; done
exit 0
`;

/**
 * Starts the reaper. Cheap: one `sh` process, a few hundred KB.
 *
 * @example
 * const reaper = startReaper();
 * reaper.watch(child.pid, { group: true, signal: "KILL" });
 */
export function startReaper(): Reaper {
  // By absolute path: a PATH without /bin must not cost the launcher its reaper.
  const child = spawn("/bin/sh", ["-c", SCRIPT], { stdio: ["pipe", "ignore", "ignore"], detached: true });
  child.on("error", (error) =>
    console.error(`fluxrig-mixer: cannot start the child reaper: ${error.message}`),
  );
  child.unref();
  // Our end of the pipe must not keep the launcher's event loop alive either.
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  child.stdin.on("error", () => {});
  const write = (line: string) => {
    if (child.stdin.writable) child.stdin.write(`${line}\n`);
  };
  return {
    watch(pid, { group, signal }) {
      write(`${signal} ${group ? -pid : pid}`);
    },
    release() {
      write("done");
      child.stdin.end();
    },
  };
}
