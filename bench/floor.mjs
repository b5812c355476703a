// bench/floor.mjs: the least a no-change rebuild can take in Node.js, the peer bench/cache.sh sets
// beside caisson's warm build. It does only the work no rebuild can skip, and nothing else: node
// starts; it GETs the manifest of each image the Dockerfile builds FROM (a moved tag changes every
// key); it lstats every entry under each context source of COPY and ADD (the only way to know the
// context did not change); it HEADs the destination's manifest; node exits. It reads no cache,
// hashes nothing, writes nothing. A warm build cannot be faster than this on the same machine.
//
// Usage: node bench/floor.mjs DOCKERFILE CONTEXT DESTINATION
//   (plain-HTTP registries without auth, as bench/cache.sh runs them; no ARG expansion; sources
//   without wildcards; it also lstats what .dockerignore leaves out, some 50 entries in 02)
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// node:http's CommonJS exports: an ES import of it builds a namespace that reads its lazy
// WebSocket getters, which load node's bundled undici (some 20 ms). caisson loads it this way too.
const http = process.getBuiltinModule('node:http');
const agent = new http.Agent({ keepAlive: true });

const [dockerfile, context, destination] = process.argv.slice(2);
if (destination === undefined) {
  console.error('usage: node bench/floor.mjs DOCKERFILE CONTEXT DESTINATION');
  process.exit(2);
}

/** host, repository and tag or digest of "HOST/REPOSITORY[:TAG][@DIGEST]". */
function reference(text) {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`${text}: not HOST/REPOSITORY[:TAG] (the floor asks a registry by its host)`);
  const at = text.indexOf('@');
  const name = at < 0 ? text : text.slice(0, at);
  const colon = name.lastIndexOf(':');
  const tagged = colon > slash;
  const tag = at >= 0 ? text.slice(at + 1) : tagged ? name.slice(colon + 1) : 'latest';
  return { host: name.slice(0, slash), repository: name.slice(slash + 1, tagged ? colon : undefined), tag };
}

function manifest(method, text) {
  const { host, repository, tag } = reference(text);
  const [hostname, port] = host.split(':');
  const accept = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json';
  return new Promise((resolve, reject) => {
    const request = http.request({ hostname, port, method, path: `/v2/${repository}/manifests/${tag}`, agent, headers: { accept } }, (response) => {
      response.resume();
      response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`${method} ${text}: HTTP ${response.statusCode}`))));
    });
    request.on('error', reject);
    request.end();
  });
}

/** lstat of `path` and, for a directory, of everything under it; the number of entries. */
function walk(path) {
  if (!lstatSync(path).isDirectory()) return 1;
  let entries = 1;
  for (const name of readdirSync(path)) entries += walk(`${path}/${name}`);
  return entries;
}

// The instructions, continuation lines joined, comments dropped.
const instructions = readFileSync(dockerfile, 'utf8')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim().split(/\s+/))
  .filter((words) => words[0] !== '' && !words[0].startsWith('#'));
const stages = new Set();
const bases = new Set();
const sources = [];
for (const [keyword, ...words] of instructions) {
  const flags = words.filter((word) => word.startsWith('--'));
  const rest = words.filter((word) => !word.startsWith('--'));
  // The JSON form, COPY ["a b", "/dest/"].
  const args = rest[0]?.startsWith('[') ? JSON.parse(rest.join(' ')) : rest;
  if (keyword.toUpperCase() === 'FROM') {
    // Stage names are case-insensitive.
    if (args[0] !== 'scratch' && !stages.has(args[0].toLowerCase())) bases.add(args[0]);
    if (args[1]?.toUpperCase() === 'AS') stages.add(args[2].toLowerCase());
  } else if (['COPY', 'ADD'].includes(keyword.toUpperCase()) && !flags.some((flag) => flag.startsWith('--from'))) {
    // An ADD of a URL or a git repository reads no context.
    sources.push(...args.slice(0, -1).filter((source) => !/^(https?|git):\/\/|^git@/.test(source)));
  }
}

for (const base of bases) await manifest('GET', base);
let entries = 0;
for (const source of sources) entries += walk(join(context, source));
await manifest('HEAD', destination);
agent.destroy();
console.log(`floor: ${bases.size} base manifest(s), ${entries} context entries lstat'ed, the destination's manifest`);
