// Whether a process recorded in a lock or a 'running' row still exists: a row left by a process
// that is gone (kill -9, power cut) must not block the next load, sync or publish for ever.
export function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
