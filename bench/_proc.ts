/**
 * What the benchmarks read of a process from Linux's `/proc`.
 *
 * @module
 */

/**
 * CPU seconds (user + system) a process has used so far: `utime` and
 * `stime` of `/proc/<pid>/stat`, in clock ticks of 10 ms (USER_HZ 100).
 *
 * @throws when `/proc/<pid>/stat` cannot be read (not Linux, or the process is gone)
 */
export function cpuSeconds(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
