// Option parsers for commander that reject bad values with a message naming the option.
import * as fs from 'fs';
import * as path from 'path';
import { InvalidArgumentError } from 'commander';

export function intOption(name: string, min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got '${value}'`);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be in [${min}, ${max}], got ${n}`);
    return n;
  };
}

export function floatOption(name: string, min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got '${value}'`);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be in [${min}, ${max}], got ${n}`);
    return n;
  };
}

/**
 * A directory option (--runs): an existing path must be a directory, and a missing one must have a
 * directory above it that exists, so that "--runs /etc/passwd" is one line, not ENOTDIR from a mkdir deep inside.
 */
export function dirOption(name: string) {
  return (value: string): string => {
    let at = path.resolve(value);
    for (;;) {
      if (fs.existsSync(at)) {
        if (!fs.statSync(at).isDirectory()) {
          throw new InvalidArgumentError(at === path.resolve(value) ? `${name} ${value} is a file, not a directory` : `${name} ${value}: ${at} is a file, not a directory`);
        }
        return value;
      }
      const up = path.dirname(at);
      if (up === at) return value;
      at = up;
    }
  };
}
