import { readdirSync, readFileSync } from 'node:fs';
import { CommanderError, type Command, type Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './program.js';

// The `wharf …` command lines users copy: every shell block of the README and docs/ (not the benchmark records)
// and every `--help` Examples section. Each one must parse with the real command tree (commands, arguments,
// option names and values); nothing is run. Inline `wharf …` spans in the prose must name commands and flags
// that exist.

const ROOT = new URL('../../', import.meta.url);
const DOCS = [
  'README.md',
  ...readdirSync(new URL('docs/', ROOT))
    .filter((f) => f.endsWith('.md') && f !== 'benchmarks.md')
    .map((f) => `docs/${f}`),
];

interface Example {
  where: string;
  line: string;
}

/** A stub program: actions do nothing, commander's refusals throw instead of exiting or printing. */
function quietProgram(): { program: Command; errors: string[] } {
  const program = buildProgram(() => async () => undefined);
  const errors: string[] = [];
  for (const command of allCommands(program)) {
    command.exitOverride();
    command.configureOutput({
      writeOut: () => undefined,
      writeErr: (s) => void errors.push(s),
      outputError: (s) => void errors.push(s),
    });
  }
  return { program, errors };
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/** Shell words of one simple command, quotes removed, up to a `#` comment. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      word = (word ?? '') + text.slice(i + 1, end < 0 ? undefined : end);
      i = end < 0 ? text.length : end;
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[i + 1];
      i += 1;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '#' && word === undefined) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Splits a shell line at `|`, `&&`, `||` and `;` outside quotes, and pulls out the `$(…)` inside it. */
function simpleCommands(line: string): string[] {
  const commands: string[] = [];
  let rest = line;
  for (;;) {
    const start = rest.indexOf('$(');
    if (start < 0) break;
    let depth = 0;
    let end = start + 1;
    for (; end < rest.length; end += 1) {
      if (rest[end] === '(') depth += 1;
      if (rest[end] === ')' && --depth === 0) break;
    }
    commands.push(...simpleCommands(rest.slice(start + 2, end)));
    rest = `${rest.slice(0, start)}SUBST${rest.slice(end + 1)}`;
  }
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < rest.length; i += 1) {
    const c = rest[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      current += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      current += c;
    } else if (c === '#' && (current === '' || /\s$/.test(current))) {
      break;
    } else if (c === '|' || c === ';' || (c === '&' && rest[i + 1] === '&')) {
      commands.push(current);
      current = '';
      if (rest[i + 1] === c) i += 1;
    } else {
      current += c;
    }
  }
  commands.push(current);
  return commands;
}

/** The words without `> file`, `2>&1` and the like. */
function withoutRedirections(words: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] as string;
    if (/^\d?[<>]{1,2}$/.test(word)) i += 1;
    else if (!/^\d?[<>]/.test(word)) kept.push(word);
  }
  return kept;
}

/** The words after `wharf` of each wharf command in a shell line (after any `VAR=value` prefixes). */
function wharfInvocations(line: string): string[][] {
  const found: string[][] = [];
  for (const command of simpleCommands(line)) {
    const words = withoutRedirections(shellWords(command));
    while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] as string)) words.shift();
    if (words[0] === 'eval') words.shift();
    if (words[0] === 'wharf' || words[0] === 'npx' || words[0] === 'SUBST') {
      const at = words.indexOf('wharf');
      if (at >= 0) found.push(words.slice(at + 1));
    }
  }
  return found;
}

/** Lines of ```sh/```bash/``` blocks that run wharf, continuation lines joined. */
function docShellExamples(): Example[] {
  const examples: Example[] = [];
  for (const doc of DOCS) {
    const text = readFileSync(new URL(doc, ROOT), 'utf8');
    for (const block of text.matchAll(/^```(sh|bash|)\n([\s\S]*?)^```$/gm)) {
      const body = (block[2] as string).replace(/\\\n/g, ' ');
      for (const line of body.split('\n')) {
        if (!/(^|[\s|(&;])wharf\s/.test(line)) continue;
        examples.push({ where: doc, line });
      }
    }
  }
  return examples;
}

function helpExamples(): Example[] {
  const examples: Example[] = [];
  for (const command of allCommands(quietProgram().program)) {
    let help = '';
    command.configureOutput({ writeOut: (s) => (help += s) });
    command.outputHelp();
    const at = help.indexOf('\nExamples:\n');
    const body = help.slice(at + '\nExamples:\n'.length).replace(/\\\n/g, ' ');
    for (const line of body.split('\n')) {
      if (/(^|[\s|(&;])wharf\s/.test(line)) examples.push({ where: `${commandPath(command)} --help`, line });
    }
  }
  return examples;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** `wharf …` code spans in the prose, e.g. `wharf sync log [PATH] [-C DIR]`. */
function docInlineCommands(): Example[] {
  const spans: Example[] = [];
  for (const doc of DOCS) {
    const text = readFileSync(new URL(doc, ROOT), 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
    for (const span of text.matchAll(/`(wharf [^`]+)`/g)) spans.push({ where: doc, line: span[1] as string });
  }
  return spans;
}

/** Whether the option takes a value, so that `wharf --region X ls` finds `ls` after X. */
function takesValue(command: Command, flag: string): boolean {
  const option = findOption(command, flag);
  return option !== undefined && (option.required || option.optional);
}

function findOption(command: Command, flag: string): Option | undefined {
  for (let c: Command | null = command; c; c = c.parent) {
    const option = c.options.find((o) => o.long === flag || o.short === flag);
    if (option) return option;
  }
  return undefined;
}

/** The command the words name, and the words left for it. */
function resolve(program: Command, words: string[]): { command: Command; rest: string[] } {
  let command = program;
  const rest: string[] = [];
  let positionals = 0;
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] as string;
    if (word.startsWith('-')) {
      rest.push(word);
      if (!word.includes('=') && takesValue(command, word) && i + 1 < words.length)
        rest.push(words[(i += 1)] as string);
      continue;
    }
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub && positionals === 0) {
      command = sub;
      continue;
    }
    positionals += 1;
    rest.push(word);
  }
  return { command, rest };
}

/** Every `--flag` and `-x` in the words that the command (or a parent) does not have. */
function unknownFlags(command: Command, words: string[]): string[] {
  return words
    .filter((w) => /^--?[A-Za-z]/.test(w))
    .map((w) => w.replace(/=.*$/, ''))
    .filter((flag) => flag !== '--help' && flag !== '-h' && findOption(command, flag) === undefined);
}

async function parseError(words: string[]): Promise<string | undefined> {
  const { program, errors } = quietProgram();
  try {
    await program.parseAsync(words, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) return undefined; // --help
    return errors.join('') || (error instanceof Error ? error.message : String(error));
  }
  return undefined;
}

describe('the wharf command lines of the docs and of --help', () => {
  const runnable = [...docShellExamples(), ...helpExamples()];
  const cases = runnable.flatMap((e) =>
    wharfInvocations(e.line).map((words) => [e.where, e.line.trim(), words] as const),
  );

  it('finds the examples', () => {
    expect(cases.length).toBeGreaterThan(100);
    expect(cases.some(([where]) => where === 'docs/datastore-client.md')).toBe(true);
    expect(cases.some(([where]) => where === 'wharf sync trash purge --help')).toBe(true);
  });

  it.each(cases)('%s: %s parses', async (_where, line, words) => {
    // Usage notation (`[--empty]`) is not a command a user can paste: the shell passes the brackets on.
    expect(line).not.toMatch(/(^|\s)\[[^\]'"]*\](\s|$)/);
    const { command, rest } = resolve(quietProgram().program, words);
    expect(unknownFlags(command, rest)).toEqual([]);
    expect(await parseError(words)).toBeUndefined();
  });

  const inline = docInlineCommands();
  it.each(inline.map((e) => [e.where, e.line] as const))(
    '%s: `%s` names a command and its flags',
    (_where, line) => {
      const words = shellWords(line.replace(/[[\]]/g, ' ').replace(/\\\|/g, '|')).filter(
        (w) => !w.includes('|'),
      );
      const { command, rest } = resolve(quietProgram().program, words.slice(1));
      expect(unknownFlags(command, rest)).toEqual([]);
    },
  );
});
