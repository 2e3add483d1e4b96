import { fileURLToPath } from 'node:url';

/** The repository root (this file is packages/bench/{src,dist}/lib/paths.*). */
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const benchRoot = fileURLToPath(new URL('../../', import.meta.url));
export const serverMain = `${repoRoot}packages/server/dist/main.js`;
/** Always the built relay, also when tests run from the sources. */
export const floorMain = `${benchRoot}dist/floor/relay.js`;
