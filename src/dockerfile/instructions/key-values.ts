/** ENV and LABEL arguments: (key, value, delimiter) triples from the line parser. */
import type { InstructionRequest } from './request.js';
import type { KeyValue } from './types.js';

export function toKeyValues(request: InstructionRequest): KeyValue[] {
  request.requireArgs();
  const pairs: KeyValue[] = [];
  for (let i = 0; i < request.args.length; i += 3) {
    const [key = '', value = '', delimiter = ''] = request.args.slice(i, i + 3);
    if (key === '') request.fail(`${request.name} names can not be blank`, `write ${request.name} <name>=<value>`);
    pairs.push({ key, value, legacy: delimiter === '' });
  }
  return pairs;
}
