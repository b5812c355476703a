/**
 * Variables inside a stage, with BuildKit's scoping: a stage starts with its base's
 * environment (an image's config Env, or everything a parent stage had); `ARG name` brings in a
 * build arg, else a global (meta or platform) ARG value, else its default (expanded); ARG
 * values are visible to later instructions and RUN but are not written to the image config;
 * ENV values are both. Expansion of each instruction happens against the scope's variables.
 */
import { expandInstruction } from './expand.js';
import type { ArgInstruction, EnvInstruction, Instruction } from './instructions/types.js';
import { envFromMap, expandWord, type EnvLookup } from './shell/index.js';

export interface StageScopeOptions {
  readonly escapeToken: '\\' | '`';
  /** Values given with --build-arg. */
  readonly buildArgs: ReadonlyMap<string, string>;
  /** Built-in platform ARGs and meta ARGs (BuildPlan.globalArgs). */
  readonly globalArgs: ReadonlyMap<string, string>;
  /** The base's environment: an image config's Env, or a parent stage's variables. */
  readonly baseEnv?: ReadonlyMap<string, string>;
  /** The base's config Env (what the image will carry), when different from `baseEnv`. */
  readonly baseConfigEnv?: ReadonlyMap<string, string>;
  /** ARG names the parent stage declared (they stay declared). */
  readonly baseDeclaredArgs?: Iterable<string>;
  /** Told about variables an instruction uses that are neither set nor declared. */
  readonly onUndefined?: (name: string, instruction: Instruction, known: readonly string[]) => void;
}

export class StageScope {
  readonly #options: StageScopeOptions;
  /** Everything expansion and RUN see: base env, ARG values, ENV values (later wins). */
  readonly #variables: Map<string, string>;
  /** What the image config's Env holds. */
  readonly #configEnv: Map<string, string>;
  readonly #declaredArgs: Set<string>;

  constructor(options: StageScopeOptions) {
    this.#options = options;
    this.#variables = new Map(options.baseEnv ?? []);
    this.#configEnv = new Map(options.baseConfigEnv ?? options.baseEnv ?? []);
    this.#declaredArgs = new Set(options.baseDeclaredArgs ?? []);
  }

  /** The variables expansion sees now. */
  get env(): EnvLookup {
    return envFromMap(this.#variables);
  }

  get variables(): ReadonlyMap<string, string> {
    return this.#variables;
  }

  get configEnv(): ReadonlyMap<string, string> {
    return this.#configEnv;
  }

  get declaredArgs(): ReadonlySet<string> {
    return this.#declaredArgs;
  }

  #report(instruction: Instruction, names: ReadonlySet<string>): void {
    const onUndefined = this.#options.onUndefined;
    if (onUndefined === undefined) return;
    const known = [...this.#variables.keys()];
    for (const name of names) {
      if (!this.#declaredArgs.has(name)) onUndefined(name, instruction, known);
    }
  }

  /** Applies ARG: declares each name and sets its value when it has one. */
  declareArgs(instruction: ArgInstruction): void {
    for (const definition of instruction.args) {
      const given = this.#options.buildArgs.get(definition.key);
      let value = given;
      if (value === undefined && definition.value === undefined) {
        value = this.#options.globalArgs.get(definition.key);
      } else if (value === undefined && definition.value !== undefined) {
        const result = expandWord(definition.value, this.env, { escapeToken: this.#options.escapeToken });
        this.#report(instruction, result.unmatched);
        value = result.result;
      }
      if (value !== undefined) this.#variables.set(definition.key, value);
      this.#declaredArgs.add(definition.key);
    }
  }

  /** Applies ENV (already expanded). */
  setEnv(instruction: EnvInstruction): void {
    for (const pair of instruction.env) {
      this.#variables.set(pair.key, pair.value);
      this.#configEnv.set(pair.key, pair.value);
    }
  }

  /** Expands `instruction` against the current variables; ARG and ENV then update the scope. */
  apply<T extends Instruction>(instruction: T): T {
    if (instruction.kind === 'arg') {
      this.declareArgs(instruction);
      return instruction;
    }
    const expanded = expandInstruction(instruction, {
      env: this.env,
      escapeToken: this.#options.escapeToken,
      onUnmatched: (names) => this.#report(instruction, names),
    });
    if (expanded.kind === 'env') this.setEnv(expanded);
    return expanded;
  }

  /** A scope for a stage built FROM this one: it inherits every variable and declared ARG. */
  child(options: Pick<StageScopeOptions, 'onUndefined'> = {}): StageScope {
    return new StageScope({
      ...this.#options,
      ...options,
      baseEnv: this.#variables,
      baseConfigEnv: this.#configEnv,
      baseDeclaredArgs: this.#declaredArgs,
    });
  }
}
