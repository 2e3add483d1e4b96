import { fileURLToPath } from 'node:url';

/** The repository root (this file is packages/bench/{src,dist}/lib/paths.*). */
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const benchRoot = fileURLToPath(new URL('../../', import.meta.url));
export const serverMain = `${repoRoot}packages/server/dist/main.js`;
export const floorMain = fileURLToPath(new URL('../floor/relay.js', import.meta.url));
