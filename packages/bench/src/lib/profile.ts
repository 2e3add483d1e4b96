/** Summarises V8 .cpuprofile files: the functions with the most self time. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface HotSpot {
  function: string;
  location: string;
  selfPercent: number;
}

export function hotSpots(dir: string, top = 20): { file: string; hotSpots: HotSpot[] }[] {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return [];
  }
  return files.map((f) => {
    const prof = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { nodes: ProfileNode[] };
    const self = new Map<string, number>();
    let total = 0;
    for (const n of prof.nodes) {
      const hits = n.hitCount ?? 0;
      total += hits;
      const loc = n.callFrame.url
        ? `${n.callFrame.url.replace(/^.*\/(packages|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`
        : '';
      const key = `${n.callFrame.functionName || '(anonymous)'}\t${loc}`;
      self.set(key, (self.get(key) ?? 0) + hits);
    }
    const hotSpots = [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, hits]) => {
        const [fn, location] = k.split('\t');
        return { function: fn!, location: location!, selfPercent: Math.round((hits / Math.max(1, total)) * 1000) / 10 };
      });
    return { file: path.join(dir, f), hotSpots };
  });
}
