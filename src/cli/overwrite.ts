// An output that is one of the command's inputs would destroy that input (and exit 0): `embed --data W --out W`
// replaced the window set with embeddings, `finetune --from P --out P` the foundation checkpoint. Outputs are
// compared with inputs by real path (symlinks and `..` resolved; an output that does not exist yet by its
// folder's real path), and refused unless the user says --force.
import * as fs from 'fs';
import * as path from 'path';

function realPath(file: string): string {
  const abs = path.resolve(file);
  try {
    return fs.realpathSync(abs);
  } catch {
    // Not there yet: its folder may still be a link to where an input lives.
    try {
      return path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs));
    } catch {
      return abs;
    }
  }
}

/**
 * Throws when an output (`--out` and the files written beside it) is the same file as an input, unless
 * `force`. inputs: option name → path (undefined entries skipped); outputs likewise.
 */
export function refuseOverwritingInputs(
  outputs: Record<string, string | undefined>, inputs: Record<string, string | undefined>, force = false,
): void {
  if (force) return;
  for (const [outName, out] of Object.entries(outputs)) {
    if (out === undefined) continue;
    const o = realPath(out);
    for (const [inName, input] of Object.entries(inputs)) {
      if (input !== undefined && realPath(input) === o) {
        throw new Error(`${outName} ${out} is the same file as ${inName} ${input}: writing it would destroy that input; choose another ${outName} (or pass --force to replace it)`);
      }
    }
  }
}
