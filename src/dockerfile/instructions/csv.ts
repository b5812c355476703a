/**
 * One CSV record (`type=cache,target="/a,b"`), as Go's encoding/csv reads it with default
 * settings: comma separated, `"` quotes a whole field, `""` is a quote inside one.
 */

export function parseCsvRecord(line: string): string[] {
  const fields: string[] = [];
  let pos = 0;
  for (;;) {
    let field = '';
    if (line[pos] === '"') {
      pos++;
      for (;;) {
        const close = line.indexOf('"', pos);
        if (close < 0) throw new Error(`extraneous or missing " in quoted-field`);
        field += line.slice(pos, close);
        pos = close + 1;
        if (line[pos] === '"') {
          field += '"';
          pos++;
          continue;
        }
        if (pos < line.length && line[pos] !== ',') throw new Error(`extraneous or missing " in quoted-field`);
        break;
      }
    } else {
      const comma = line.indexOf(',', pos);
      const end = comma < 0 ? line.length : comma;
      field = line.slice(pos, end);
      if (field.includes('"')) throw new Error(`bare " in non-quoted-field`);
      pos = end;
    }
    fields.push(field);
    if (pos >= line.length) return fields;
    pos++; // the comma
  }
}
