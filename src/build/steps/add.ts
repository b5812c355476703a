/**
 * ADD: COPY's rules for context paths, plus BuildKit's: a local tar archive is unpacked into the
 * destination unless --unpack=false (../add-archive.ts), an http(s) URL is downloaded and unpacked
 * only with --unpack (../add-url.ts), a git repository is checked out (../add-git.ts). One ADD is
 * one layer. --checksum is for exactly one URL (a digest) or git source (a commit).
 */
import { rm } from 'node:fs/promises';
import type { FileChange } from '../../cache/index.js';
import { CaissonError } from '../../errors.js';
import type { AddInstruction } from '../../dockerfile/index.js';
import { unpackArchive } from '../add-archive.js';
import { checkoutGit, copyCheckout, isGitChecksum, parseGitSource, redactGitSource } from '../add-git.js';
import { addUrl, isHttpSource, parseUrlChecksum, redactUrl, urlValidator } from '../add-url.js';
import { cachedStep } from '../step-cache.js';
import type { Step, StepInput } from './step.js';
import { transferFiles, transferInputs, type ExtraWrite, type TransferExtras } from './transfer.js';

/** --checksum's rules (BuildKit's): one source, a URL or a git repository, a well-formed value. */
function checkChecksum(instruction: AddInstruction): void {
  const { checksum, sources, location } = instruction;
  if (checksum === undefined) return;
  const invalid = (detail: string, hint: string): CaissonError => new CaissonError({ code: 'ERR_DOCKERFILE_INSTRUCTION', message: `ADD --checksum=${checksum}: ${detail}`, location, hint });
  const [source] = sources;
  if (source === undefined || sources.length + instruction.inline.length !== 1) throw invalid('a checksum can be given for one source only', 'Split the ADD into one instruction per checked source.');
  if (parseGitSource(source) !== undefined) {
    if (!isGitChecksum(checksum)) throw invalid('a git source\'s checksum is its commit id (7 to 64 hex digits)', 'Write --checksum=<commit sha>.');
  } else if (isHttpSource(source)) {
    if (parseUrlChecksum(checksum) === undefined) throw invalid('not a digest', 'Write --checksum=sha256:<64 hex digits> (sha384 and sha512 work too).');
  } else {
    throw invalid(`"${source}" is a local source; a checksum needs an HTTP(S) or git source`, 'Drop --checksum for files of the build context; it checks downloads and git commits.');
  }
}

/** The destination as a directory (BuildKit unpacks and checks out into it, whatever it ends with). */
function directoryOf(options: ExtraWrite): string {
  return options.view === undefined ? options.destination : options.view.resolve({ path: options.destination, followFinal: true });
}

function isRemote(source: string): boolean {
  return parseGitSource(source) !== undefined || isHttpSource(source);
}

/**
 * The key inputs of an ADD: local sources by content; a URL by --checksum, else by the server's
 * ETag or Last-Modified; a git source by --checksum (its commit). Undefined (not cacheable) when a
 * remote source has none of these.
 */
async function addInputs(input: StepInput<AddInstruction>): Promise<{ readonly extra: { sources: string[] } | undefined; readonly changed: () => readonly FileChange[]; readonly recheck?: () => Promise<{ sources: string[] }> }> {
  const { instruction, session } = input;
  const local = instruction.sources.filter((source) => !isRemote(source));
  const read = () => transferInputs(input, { from: undefined, sources: local });
  const { inputs: sources, changed } = await read();
  const remote: string[] = [];
  for (const source of instruction.sources.filter(isRemote)) {
    // Without --checksum the server is asked again by every build: no build record can answer for it.
    if (instruction.checksum === undefined) session.options.journal?.unrecordable(`${input.label} reads ${isHttpSource(source) ? redactUrl(source) : redactGitSource(source)} without --checksum`);
    const validator = instruction.checksum ?? (parseGitSource(source) === undefined ? await urlValidator(source) : undefined);
    if (validator === undefined) return { extra: undefined, changed };
    remote.push(`${source} ${validator}`);
  }
  // The remote sources' part stays as it was: only the context can be seen to change.
  return { extra: { sources: [...sources, ...remote] }, changed, recheck: async () => ({ sources: [...(await read()).inputs, ...remote] }) };
}

export const addStep: Step<AddInstruction> = async (input) => {
  checkChecksum(input.instruction);
  const { extra, changed, recheck } = await addInputs(input);
  return cachedStep(input, { extra, changed, recheck, uncacheable: 'a remote source with no --checksum (and, for a URL, no ETag, and no Last-Modified or one of the last two seconds)', build: () => addFiles(input) });
};

async function addFiles(input: StepInput<AddInstruction>): ReturnType<Step<AddInstruction>> {
  const { instruction, session } = input;
  const logger = session.options.logger;
  const tree = await input.sourceTree(undefined);
  const withScratch = async (prefix: string, work: (scratch: string) => Promise<void>): Promise<void> => {
    const scratch = await session.scratch(prefix);
    try {
      await work(scratch);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  };
  const extras: TransferExtras = {
    isRemote,
    display: (source) => (parseGitSource(source) !== undefined ? redactGitSource(source) : isHttpSource(source) ? redactUrl(source) : source),
    unpack: async (options) => instruction.unpack !== false && unpackArchive({ ...options, file: options.entry.hostPath, what: `archive ${options.source}`, directory: directoryOf(options), logger }),
    fetch: async (options) => {
      const git = parseGitSource(options.source);
      if (git !== undefined) {
        await withScratch('add-git', async (scratch) => {
          const checkout = await checkoutGit({ source: git, directory: scratch, checksum: instruction.checksum, keepGitDir: instruction.keepGitDir === true, what: redactGitSource(options.source) });
          copyCheckout({ ...options, checkout, directory: directoryOf(options) });
        });
        return;
      }
      const checksum = instruction.checksum === undefined ? undefined : parseUrlChecksum(instruction.checksum);
      if (instruction.unpack !== true) {
        await addUrl({ ...options, checksum, unpack: undefined });
        return;
      }
      await withScratch('add-url', (scratch) => addUrl({ ...options, checksum, unpack: { directory: directoryOf(options), scratch, logger } }));
    },
  };
  return transferFiles({ ...input, tree, parents: false, extras });
}
