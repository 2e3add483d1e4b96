import { initParleyDataDir } from './dist/lib/systems.js';
import { seedParleySqlite } from './dist/lib/world.js';
import { startParley } from './dist/lib/target.js';
import { generateHistory } from './dist/scenarios/history.js';
import { mkdtempSync } from 'node:fs';
const tmp = mkdtempSync('/tmp/dbg-');
const ctx = { tmpDir: tmp, log: console.log };
const db = await initParleyDataDir(ctx, tmp + '/d');
const w = seedParleySqlite(db, { users: 2, pairs: true });
generateHistory(db, w.dms[0], w.users[0].id, w.users[1].id, 20000);
const t = await startParley({ dataDir: tmp + '/d', logDir: tmp, cpuProfDir: tmp + '/prof' });
for (const p of [`/v1/channels/${w.dms[0]}/messages?limit=50`, `/v1/sync?since=0&limit=200`, `/v1/me`]) {
  for (let i = 0; i < (p.includes('messages') ? 200 : 3); i++) {
    const t0 = performance.now();
    const r = await fetch(t.baseUrl + p, { headers: { authorization: `Bearer ${w.users[0].token}` } });
    const b = await r.text();
    if (i < 3 || i > 196) console.log(p, r.status, (performance.now() - t0).toFixed(1), 'ms', b.slice(0, 80));
  }
}
await t.stop();
const { hotSpots } = await import('./dist/lib/profile.js');
console.log(JSON.stringify(hotSpots(tmp + '/prof', 25), null, 1));
