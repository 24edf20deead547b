// `npx tsx bench/profile-top.ts FILE.cpuprofile [N]`: where a server process's CPU went, from the
// profile `npm run bench -- --cpu-prof DIR` has the server write (node --cpu-prof). Prints the top N
// functions by self time and the self time per module group (our src/, each npm package, Node itself),
// as shares of the busy time (idle left out). When the bench left window.<pid>.json beside the
// profile, only the samples taken while the section ran count (not the server's start-up).
import fs from 'node:fs';
import path from 'node:path';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: Node[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export function summarise(profile: Profile, top = 20, window?: { fromUs: number; toUs: number }): string {
  const selfUs = new Map<number, number>();
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    if (idle.has(profile.samples[i]!)) continue;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const n of profile.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    if (!us) continue;
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    const where = url ? `${url.replace(/^.*?\/(node_modules\/|src\/|seeds\/)/, '$1')}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const group = !url ? `(${n.callFrame.functionName || 'native'})`
      : /node_modules\//.test(url) ? `npm ${/node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)![1]}`
        : /\/src\//.test(url) ? `src/${url.split('/src/')[1]!.split('/').slice(0, 2).join('/')}`
          : url.startsWith('node:') ? 'node internals' : url;
    byGroup.set(group, (byGroup.get(group) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const lines = [`${(total / 1000).toFixed(0)} ms busy${window ? ' in the section\'s window' : ''} (idle left out)`, '', 'self time by module group:'];
  for (const [k, v] of [...byGroup].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(v)}  ${k}`);
  lines.push('', `top ${top} functions by self time:`);
  for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(v)}  ${k}`);
  return lines.join('\n');
}

if (process.argv[1] && /profile-top\.ts$/.test(process.argv[1])) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npx tsx bench/profile-top.ts FILE.cpuprofile [N]');
    process.exit(2);
  }
  const pid = /CPU\.\d+\.\d+\.(\d+)\./.exec(path.basename(file))?.[1];
  const windowFile = pid ? path.join(path.dirname(file), `window.${pid}.json`) : null;
  const window = windowFile && fs.existsSync(windowFile) ? (JSON.parse(fs.readFileSync(windowFile, 'utf8')) as { fromUs: number; toUs: number; database: string; section: string }) : undefined;
  if (window) console.log(`${window.database} ${window.section}: server process ${pid}`);
  console.log(summarise(JSON.parse(fs.readFileSync(file, 'utf8')) as Profile, Number(process.argv[3] ?? 20), window));
}
