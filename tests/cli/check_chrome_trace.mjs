// SPDX-License-Identifier: MIT
// cli.chrome_trace_engine: a Chrome trace written by mmnsim (S1's wrong
// setting, saved by `mmnsim explore`) loaded with Chrome DevTools' own trace
// engine (@paulirish/trace_engine, the Performance panel's parser), and
// checked: it parses with no warning; the reclaimer's track has the nested
// operation spans (try_to_unmap around invalidate_range_start and the CPU
// flush); a flow runs from the free of the frame to the device's
// use-after-free; no two slices of one track are identical; ts and
// displayTimeUnit agree (microseconds, "ns" display).
//   node check_chrome_trace.mjs TRACE.json NPM_DIR
// Exit 0 pass, 1 fail, 77 skip (the npm package is not installed).
import fs from 'node:fs';

const [file, npmDir] = process.argv.slice(2);
let analyzeEvents;
try {
  ({analyzeEvents} = await import(`${npmDir}/node_modules/@paulirish/trace_engine/analyze-trace.mjs`));
} catch (e) {
  console.log(`SKIP: @paulirish/trace_engine is not installed in ${npmDir} (sh scripts/deps.sh runs npm ci): ${e.message}`);
  process.exit(77);
}

let failed = 0;
function check(what, ok, detail = '') {
  console.log(`${ok ? 'ok' : 'FAIL'}: ${what}${ok || !detail ? '' : `: ${detail}`}`);
  if (!ok) failed = 1;
}

const json = JSON.parse(fs.readFileSync(file, 'utf8'));
check('displayTimeUnit is "ns" (ts in µs with ns digits)', json.displayTimeUnit === 'ns');
let parsed;
try {
  ({parsedTrace: parsed} = await analyzeEvents(json.traceEvents));
} catch (e) {
  check('the trace engine parses the trace', false, e.stack);
  process.exit(1);
}
const data = parsed.data;
check('the trace engine parses the trace', true);
const warnings = Object.keys(data.Warnings.perWarning);
check('no warnings', warnings.length === 0, warnings.join(', '));

// The actors' tracks, by name.
const tracks = new Map();
for (const [, proc] of data.Renderer.processes)
  for (const [, thread] of proc.threads) tracks.set(thread.name, thread.entries);
check('a track per actor (reclaimer, device)', tracks.has('reclaimer') && tracks.has('device'),
      [...tracks.keys()].join(', '));
check('a lock track (reclaimer locks)', tracks.has('reclaimer locks'));

const rec = tracks.get('reclaimer') ?? [];
const named = (n) => rec.filter((e) => e.name === n);
const inside = (outer, inner) => inner.ts >= outer.ts && inner.ts + inner.dur <= outer.ts + outer.dur;
for (const n of ['shrink_folio_list', 'try_to_unmap', 'invalidate_range_start',
                 'invalidate_range_end', 'arch_tlbbatch_flush'])
  check(`span ${n} on the reclaimer's track`, named(n).length > 0 && named(n)[0].dur > 0);
const ttu = named('try_to_unmap')[0];
check('invalidate_range_start nested in try_to_unmap',
      !!ttu && named('invalidate_range_start').some((e) => inside(ttu, e)));
check('arch_tlbbatch_flush (the batched CPU flush) nested in try_to_unmap',
      !!ttu && named('arch_tlbbatch_flush').some((e) => inside(ttu, e)));
const locks = tracks.get('reclaimer locks') ?? [];
check('PTL and mmap_lock held as slices',
      locks.some((e) => e.name.startsWith('ptl#')) && locks.some((e) => e.name.startsWith('mmap_lock#')));

const flows = data.Flows.flows;
const uaf = flows.find((f) => f[0].name.startsWith('free pfn ') &&
                              f[f.length - 1].name === 'violation use_after_free');
check('a flow from the free to the use-after-free', !!uaf,
      JSON.stringify(flows.map((f) => f.map((e) => e.name))));
if (uaf)
  check('the flow goes forward in time, between two actors',
        uaf[0].ts < uaf[uaf.length - 1].ts && uaf[0].tid !== uaf[uaf.length - 1].tid);

let dup = '';
for (const [name, entries] of tracks) {
  const seen = new Set();
  for (const e of entries) {
    const key = `${e.name}@${e.ts}+${e.dur}`;
    if (seen.has(key)) dup ||= `${name}: ${key}`;
    seen.add(key);
  }
}
check('no identical overlapping slices on one track', !dup, dup);
process.exit(failed);
