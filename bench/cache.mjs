// bench/cache.sh's helper (no caisson code: it reads only the registry's log and storage).
//
//   node bench/cache.mjs traffic LOG STORAGE START END [DETAILS]
//     What the registry answered between the requests GET /v2/?bench-mark=START and
//     GET /v2/?bench-mark=END in LOG (docker-registry's JSON log at level info: one
//     "response completed" line per request, with http.response.written = bytes of the response),
//     printed as one line of numbers:
//       layerBlobs layerBytes configBlobs configBytes manifests manifestBytes uploadedBlobs uploadedBytes mountedBlobs requests
//     A blob is a config when some manifest in STORAGE (the registry's rootdirectory) names it as
//     its config; every other blob GET counts as a layer. Uploaded bytes are the sizes, in STORAGE, of
//     the blobs whose upload completed (the registry does not log request sizes). DETAILS, if given,
//     gets one line per transfer.
//
//   node bench/cache.mjs summary RESULTS RATIO_LIMIT WARM_LIMIT_S WORKLOAD...
//     The table and verdicts of RESULTS (lines written by bench/cache.sh: round workload phase
//     status seconds rssKiB cpuSeconds push hits stealPercent, then the ten traffic numbers).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [command, ...args] = process.argv.slice(2);
if (command === 'traffic') traffic(...args);
else if (command === 'summary') summary(...args);
else {
  console.error(`bench/cache.mjs: unknown command ${command} (traffic or summary)`);
  process.exit(2);
}

function blobPath(storage, digest) {
  const hex = digest.slice('sha256:'.length);
  return join(storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

/** The digests every stored manifest names as its config and as its layers. */
function manifestRoles(storage) {
  const configs = new Set();
  const layers = new Set();
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      if (entry.name === '_layers' || entry.name === '_uploads') continue;
      if (entry.name !== '_manifests') {
        walk(join(dir, entry.name));
        continue;
      }
      const revisions = join(dir, '_manifests/revisions/sha256');
      let hexes = [];
      try {
        hexes = readdirSync(revisions);
      } catch {
        continue;
      }
      for (const hex of hexes) {
        let manifest;
        try {
          manifest = JSON.parse(readFileSync(blobPath(storage, `sha256:${hex}`), 'utf8'));
        } catch {
          continue;
        }
        if (manifest?.config?.digest) configs.add(manifest.config.digest);
        for (const layer of manifest?.layers ?? []) if (layer?.digest) layers.add(layer.digest);
      }
    }
  };
  walk(join(storage, 'docker/registry/v2/repositories'));
  return { configs, layers };
}

function blobSize(storage, digest) {
  try {
    return statSync(blobPath(storage, digest)).size;
  } catch {
    return 0;
  }
}

function traffic(log, storage, start, end, details) {
  const requests = [];
  let state = 'before';
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof entry.msg !== 'string' || !entry.msg.startsWith('response completed')) continue;
    const uri = String(entry['http.request.uri'] ?? '');
    if (uri === `/v2/?bench-mark=${start}`) {
      state = 'during';
      continue;
    }
    if (uri === `/v2/?bench-mark=${end}`) {
      if (state === 'during') state = 'after';
      break;
    }
    if (state === 'during') requests.push(entry);
  }
  if (state !== 'after') {
    console.error(`bench/cache.mjs: ${log} does not hold both marks ${start} and ${end}`);
    process.exit(1);
  }
  const { configs, layers } = manifestRoles(storage);
  const sums = { layerBlobs: 0, layerBytes: 0, configBlobs: 0, configBytes: 0, manifests: 0, manifestBytes: 0, uploadedBlobs: 0, uploadedBytes: 0, mountedBlobs: 0 };
  const lines = [];
  for (const entry of requests) {
    const method = entry['http.request.method'];
    const uri = String(entry['http.request.uri']);
    const status = Number(entry['http.response.status']);
    const written = Number(entry['http.response.written'] ?? 0);
    const [path, query = ''] = uri.split('?');
    const params = new URLSearchParams(query);
    let match;
    if (method === 'GET' && (status === 200 || status === 206) && (match = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path))) {
      const digest = match[2];
      const kind = !layers.has(digest) && configs.has(digest) ? 'config' : 'layer';
      sums[`${kind}Blobs`] += 1;
      sums[`${kind}Bytes`] += written;
      lines.push(`GET ${kind} ${written} ${match[1]} ${digest}`);
    } else if (method === 'GET' && status === 200 && (match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path))) {
      sums.manifests += 1;
      sums.manifestBytes += written;
      lines.push(`GET manifest ${written} ${match[1]} ${match[2]}`);
    } else if ((method === 'PUT' || method === 'POST') && status === 201 && /^\/v2\/(.+)\/blobs\/uploads\//.test(path) && params.get('digest')) {
      const digest = params.get('digest');
      const size = blobSize(storage, digest);
      sums.uploadedBlobs += 1;
      sums.uploadedBytes += size;
      lines.push(`${method} upload ${size} ${path} ${digest}`);
    } else if (method === 'POST' && status === 201 && params.get('mount')) {
      sums.mountedBlobs += 1;
      lines.push(`POST mount 0 ${path} ${params.get('mount')} from ${params.get('from')}`);
    } else {
      lines.push(`${method} ${status} ${written} ${uri}`);
    }
  }
  if (details) writeFileSync(details, `${lines.join('\n')}\n`);
  const order = ['layerBlobs', 'layerBytes', 'configBlobs', 'configBytes', 'manifests', 'manifestBytes', 'uploadedBlobs', 'uploadedBytes', 'mountedBlobs'];
  console.log([...order.map((key) => sums[key]), requests.length].join(' '));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/** "N GETs (B bytes[, x KiB|MiB])". */
function transfers(count, n, noun) {
  const size = n < 1024 ? '' : n < 1024 * 1024 ? `, ${(n / 1024).toFixed(1)} KiB` : `, ${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${count} ${noun} (${n} B${size})`;
}

function summary(results, ratioLimitText, warmLimitText, ...workloads) {
  const ratioLimit = Number(ratioLimitText);
  const warmLimit = Number(warmLimitText);
  const TRAFFIC = ['layerBlobs', 'layerBytes', 'configBlobs', 'configBytes', 'manifests', 'manifestBytes', 'uploadedBlobs', 'uploadedBytes', 'mountedBlobs', 'requests'];
  /** @type {Map<string, object[]>} per "workload phase", one record per round */
  const runs = new Map();
  for (const line of readFileSync(results, 'utf8').split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [round, workload, phase, status, seconds, rss, cpu, push, hits, steal, ...numbers] = fields;
    const record = { round: Number(round), status, seconds: Number(seconds), rss: Number(rss), cpu: Number(cpu), push, hits, steal: Number(steal ?? 0) };
    TRAFFIC.forEach((key, i) => (record[key] = Number(numbers[i] ?? 0)));
    const key = `${workload} ${phase}`;
    if (!runs.has(key)) runs.set(key, []);
    runs.get(key).push(record);
  }
  const figure = (workload, phase) => {
    const records = runs.get(`${workload} ${phase}`) ?? [];
    if (records.length === 0 || records.some((r) => r.status !== 'ok')) return null;
    const out = { seconds: median(records.map((r) => r.seconds)), cpu: median(records.map((r) => r.cpu)), rss: Math.max(...records.map((r) => r.rss)), steal: Math.max(...records.map((r) => r.steal)) };
    for (const key of TRAFFIC) out[key] = Math.max(...records.map((r) => r[key]));
    const last = records.at(-1);
    out.push = last.push;
    out.hits = last.hits;
    return out;
  };

  const pad = (text, width) => String(text).padStart(width);
  const padEnd = (text, width) => String(text).padEnd(width);
  const count = (n, b) => `${n} / ${b} B`;
  const columns = [
    ['workload', 16, 'left'], ['phase', 9, 'left'], ['wall s', 7], ['CPU s', 7], ['RSS', 8], ['steal', 5], ['/cold', 6],
    ['hits', 6], ['layer GETs', 18], ['config GETs', 14], ['manifest GETs', 14], ['uploaded', 18], ['mounted', 7], ['push w/m/t', 10],
  ];
  const row = (cells) => cells.map((cell, i) => (columns[i][2] === 'left' ? padEnd(cell, columns[i][1]) : pad(cell, columns[i][1]))).join(' ');
  console.log(row(columns.map((c) => c[0])));
  const verdicts = [];
  for (const workload of workloads) {
    const cold = figure(workload, 'cold');
    for (const phase of ['cold', 'warm', 'floor', 'fresh-pod']) {
      const f = figure(workload, phase);
      if (!f) {
        console.log(row([workload, phase, 'failed', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-']));
        continue;
      }
      const ratio = phase !== 'cold' && cold && cold.seconds > 0 ? (f.seconds / cold.seconds).toFixed(3) : '-';
      console.log(row([
        workload, phase, f.seconds.toFixed(3), f.cpu.toFixed(2), `${Math.round(f.rss / 1024)} MiB`, `${f.steal}%`, ratio, f.hits,
        count(f.layerBlobs, f.layerBytes), count(f.configBlobs, f.configBytes), count(f.manifests, f.manifestBytes),
        count(f.uploadedBlobs, f.uploadedBytes), f.mountedBlobs, f.push,
      ]));
    }
    const warm = figure(workload, 'warm');
    const fresh = figure(workload, 'fresh-pod');
    if (!cold || !warm) {
      verdicts.push([workload, `warm/cold: ${!cold ? 'the cold build' : 'the warm build'} failed`, false]);
      verdicts.push([workload, `warm under ${warmLimit.toFixed(1)} s: ${!warm ? 'the warm build failed' : 'no cold build to compare'}`, false]);
    } else {
      const ratio = cold.seconds > 0 ? warm.seconds / cold.seconds : Infinity;
      const floor = figure(workload, 'floor');
      const least = floor && cold.seconds > 0 ? `; the floor's ${(floor.seconds / cold.seconds).toFixed(3)}` : '';
      verdicts.push([workload, `warm/cold ${ratio.toFixed(3)} (${warm.seconds.toFixed(3)} s / ${cold.seconds.toFixed(3)} s; limit ${ratioLimit.toFixed(2)}${least})`, ratio <= ratioLimit + 1e-9]);
      verdicts.push([workload, `warm ${warm.seconds.toFixed(3)} s (limit < ${warmLimit.toFixed(1)} s)`, warm.seconds < warmLimit]);
    }
    if (!fresh) verdicts.push([workload, 'fresh pod: the build failed', false]);
    else {
      verdicts.push([
        workload,
        `fresh pod downloaded ${transfers(fresh.layerBlobs, fresh.layerBytes, 'layer blobs')}; also ${transfers(fresh.configBlobs, fresh.configBytes, 'config blobs')}, ${transfers(fresh.manifests, fresh.manifestBytes, 'manifests')}; uploaded ${transfers(fresh.uploadedBlobs, fresh.uploadedBytes, 'blobs')}, mounted ${fresh.mountedBlobs}; ${fresh.seconds.toFixed(3)} s (limit: no layer downloaded)`,
        fresh.layerBytes === 0 && fresh.layerBlobs === 0,
      ]);
    }
  }
  console.log();
  console.log('verdicts (issue 6):');
  for (const [workload, text, ok] of verdicts) console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${padEnd(workload, 16)} ${text}`);
}
