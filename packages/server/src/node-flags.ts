/**
 * The flags Node runs the server with. `npm start`, deploy/Dockerfile and deploy/systemd pass
 * them on the command line (node-flags.test.ts keeps those in step with this list), and the
 * benchmark starts the server, and its floor relays, with them. V8 reads them when it creates
 * the heap, so they cannot be set from inside the process.
 *
 * --max-semi-space-size=32: V8's young generation twice its default (16 MiB semi-spaces on 64-bit
 * machines). A hello spans several turns of the event loop (the token read, registering, the
 * log bounds, presence), so in a reconnect storm much of what thousands of hellos allocate is
 * still alive at a scavenge, is copied to the old generation and dies there, where only a full
 * mark-compact finds it. With room for twice the turns between scavenges, less of it survives
 * one: a storm of 10,000 devices cost the server 0.81× the CPU per device of the same build
 * without it (docs/benchmarks.md, finding 42). Under load the young generation then holds up to
 * 32 MiB more.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/** The NODE_FLAGS a process was started without, on its command line (`execArgv`) or in NODE_OPTIONS. */
export function missingNodeFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = new Set([...execArgv, ...(nodeOptions ?? '').split(/\s+/)]);
  return NODE_FLAGS.filter((flag) => !given.has(flag));
}
